"""Ad plans over the API: the platform's rules, KOB (stores spend their own wallets, 代投 needs an active
authorization, brands see and pause their stores' plans), bulk status, and change history."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from conftest import ADMIN_TOKEN, OP, Kob
from zhongcao import accounts
from zhongcao.api import create_app
from zhongcao.content import do_create_note
from zhongcao.core import Runtime

OPERATOR = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SEEDING = {"name": "秋冬种草 Autumn seeding", "objective": "seeding", "placement": "feed", "bidding": "manual",
           "optimize_for": "click", "daily_budget_fen": 50_000}
SEARCH = SEEDING | {"name": "搜索 Search", "placement": "search"}


@pytest.fixture
def client(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(rt, money_jobs=False)) as c:
        yield c


def key(rt: Runtime, account_id: int) -> dict[str, str]:
    return {"Authorization": f"Bearer {accounts.do_create_api_key(rt, account_id, actor=OP).key}"}


def note(rt: Runtime, author: int, title: str = "门店新品测评") -> int:
    return do_create_note(rt, author, title=title, body="好用", actor=OP).id


def ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def plan_rows(rt: Runtime) -> tuple[int, ...]:
    from zhongcao.accounts.models import AuditEntry
    from zhongcao.ads.models import CampaignRow, CreativeRow, KeywordRow, UnitRow

    with rt.db.read() as s:
        counts = tuple(s.scalar(select(func.count()).select_from(m)) or 0
                       for m in (CampaignRow, UnitRow, KeywordRow, CreativeRow, AuditEntry))
        versions = tuple(s.execute(select(CampaignRow.id, CampaignRow.version)).all())
    return (*counts, *versions)


def test_a_store_runs_a_search_campaign_with_keywords_and_a_creative(client: TestClient, rt: Runtime,
                                                                     kob: Kob) -> None:
    store = kob.stores[0]
    n = note(rt, store)
    daytime = ["0" * 8 + "1" * 14 + "00"] * 7
    campaign = ok(client.post("/v1/campaigns", json={"account_id": store, **SEARCH, "dayparts": daytime},
                              headers=OPERATOR), 201)
    assert (campaign["account_id"], campaign["status"], campaign["pacing"]) == (store, "active", "even")
    assert (campaign["start_date"], campaign["dayparts"]) == (str(rt.today()), daytime)
    unit = ok(client.post("/v1/units", json={
        "campaign_id": campaign["id"], "name": "洗发水词包", "bid_fen": 120, "note_ids": [n],
        "targeting": {"type": "advanced", "genders": ["female"], "ages": ["18-22", "23-27"], "cities": ["上海"],
                      "interests": ["beauty"], "keyword_behaviour": {"keywords": ["洗发水"], "actions": ["searched"],
                                                                     "days": 7}},
        "keywords": [{"keyword": "ＹＳＬ 口红", "match": "exact", "bid_fen": 150}, {"keyword": "洗发水"}],
        "negative_keywords": ["招聘"]}, headers=OPERATOR), 201)
    assert [(k["keyword"], k["match"], k["bid_fen"], k["negative"]) for k in unit["keywords"]] == [
        ("ysl 口红", "exact", 150, False), ("洗发水", "phrase", None, False), ("招聘", "phrase", None, True)]
    assert unit["targeting"]["keyword_behaviour"] == {"keywords": ["洗发水"], "actions": ["searched"], "days": 7}
    added = ok(client.post(f"/v1/units/{unit['id']}/keywords",
                           json={"keywords": [{"keyword": "去屑", "match": "smart"}]}, headers=OPERATOR), 201)
    kw = next(k for k in added["keywords"] if k["keyword"] == "去屑")
    assert ok(client.patch(f"/v1/keywords/{kw['id']}", json={"bid_fen": 200}, headers=OPERATOR))["bid_fen"] == 200
    creative = ok(client.post("/v1/creatives", json={"unit_id": unit["id"], "note_id": n, "component": {
        "kind": "store_poi", "store_id": store}}, headers=OPERATOR), 201)
    assert creative["component"] == {"component": "store_poi", "store_id": store}
    history = ok(client.get(f"/v1/campaigns/{campaign['id']}/history", headers=OPERATOR))
    assert [h["action"] for h in history] == ["creative.create", "keyword.update", "keyword.add", "unit.create",
                                             "campaign.create"]
    assert (history[1]["before"], history[1]["after"]) == ({"bid_fen": None}, {"bid_fen": 200})


def test_a_brand_sees_and_pauses_its_stores_campaigns_and_a_sibling_sees_nothing(client: TestClient, rt: Runtime,
                                                                                 kob: Kob) -> None:
    store, sibling = kob.stores[0], kob.stores[1]
    mine = ok(client.post("/v1/campaigns", json={"account_id": store, **SEEDING}, headers=key(rt, store)), 201)
    own = ok(client.post("/v1/campaigns", json={"account_id": kob.brand, **SEEDING}, headers=key(rt, kob.brand)), 201)
    brand = key(rt, kob.brand)
    listed = ok(client.get("/v1/campaigns", params={"account_id": kob.brand, "include_sub_accounts": True},
                           headers=brand))
    assert [(c["id"], c["account_id"]) for c in listed] == [(mine["id"], store), (own["id"], kob.brand)]
    assert ok(client.get("/v1/campaigns", params={"account_id": kob.brand}, headers=brand)) == [own]
    paused = ok(client.post("/v1/ads/status", json={"level": "campaign", "ids": [mine["id"], own["id"]],
                                                    "status": "paused"}, headers=brand))
    assert [(c["id"], c["before"], c["after"]) for c in paused["changed"]] == [
        (mine["id"], "active", "paused"), (own["id"], "active", "paused")]
    hidden = client.get(f"/v1/campaigns/{mine['id']}", headers=key(rt, sibling))
    assert (hidden.status_code, hidden.json()["code"]) == (404, "campaign_not_found")
    # All or none: one campaign the store may not touch refuses the whole batch.
    store_key = key(rt, store)
    before = plan_rows(rt)
    refused = client.post("/v1/ads/status", json={"level": "campaign", "ids": [mine["id"], own["id"]],
                                                  "status": "active"}, headers=store_key)
    assert (refused.status_code, refused.json()["code"]) == (404, "campaign_not_found")
    assert plan_rows(rt) == before


def test_substituted_delivery_needs_an_active_authorization_and_never_mixes(client: TestClient, rt: Runtime,
                                                                            kob: Kob) -> None:
    """代投: a brand unit may promote one authorized store's notes, not a stranger's, not a mix."""
    brand = key(rt, kob.brand)
    campaign = ok(client.post("/v1/campaigns", json={"account_id": kob.brand, **SEEDING}, headers=brand), 201)
    store_note, other_note, brand_note = note(rt, kob.stores[0]), note(rt, kob.stores[1]), note(rt, kob.brand)
    unit = ok(client.post("/v1/units", json={"campaign_id": campaign["id"], "name": "代投", "bid_fen": 100,
                                             "note_ids": [store_note]}, headers=brand), 201)
    assert unit["substituted_account_id"] == kob.stores[0]
    deep = note(rt, kob.dist_store)  # brand → distributor → store: the chain is active
    assert ok(client.post("/v1/units", json={"campaign_id": campaign["id"], "name": "二级", "bid_fen": 100,
                                             "note_ids": [deep]}, headers=brand), 201)["substituted_account_id"]
    cases = [([store_note, other_note], "mixed_substituted_notes"),
             ([store_note, brand_note], "mixed_substituted_notes"),
             ([note(rt, kob.other_store)], "not_authorized_sub_account")]
    for notes, code in cases:
        before = plan_rows(rt)
        r = client.post("/v1/units", json={"campaign_id": campaign["id"], "name": "x", "bid_fen": 100,
                                           "note_ids": notes}, headers=brand)
        assert (r.status_code, r.json()["code"], r.json()["field"]) == (422, code, "note_ids")
        assert plan_rows(rt) == before
    accounts.revoke_authorization(rt, accounts.list_authorizations(rt, kob.brand, actor=OP)[0].id, actor=OP)
    r = client.post("/v1/units", json={"campaign_id": campaign["id"], "name": "撤销后", "bid_fen": 100,
                                       "note_ids": [store_note]}, headers=brand)
    assert r.json()["code"] == "not_authorized_sub_account"


GOOD_UNIT = {"name": "u", "bid_fen": 100}
CAMPAIGN_RULES = [
    ({"daily_budget_fen": 9_999}, "invalid_daily_budget", "daily_budget_fen"),
    ({"daily_budget_fen": 100_000_000}, "invalid_daily_budget", "daily_budget_fen"),
    ({"objective": "awareness"}, "invalid_campaign", "objective"),
    ({"placement": "tv"}, "invalid_campaign", "placement"),
    ({"bidding": "cpc"}, "invalid_campaign", "bidding"),
    ({"optimize_for": "order"}, "invalid_campaign", "optimize_for"),  # seeding optimizes clicks or engagement
    ({"objective": "keyword_capture"}, "invalid_campaign", "placement"),  # keyword capture is search only
    ({"bidding": "cost_control", "pacing": "accelerated"}, "invalid_campaign", "pacing"),
    ({"pacing": "fast"}, "invalid_campaign", "pacing"),
    ({"name": " "}, "invalid_campaign", "name"),
    ({"start_date": "2026-02-01", "end_date": "2026-01-15"}, "invalid_schedule", "end_date"),
    ({"end_date": "2020-01-01"}, "invalid_schedule", "end_date"),
    ({"dayparts": ["1" * 24] * 6}, "invalid_schedule", "dayparts"),
    ({"dayparts": ["0" * 24] * 7}, "invalid_schedule", "dayparts"),
    ({"dayparts": ["2" * 24] * 7}, "invalid_schedule", "dayparts"),
    ({"placement": "search", "quick_cast": True}, "invalid_campaign", "quick_cast"),
    ({"quick_cast": True, "quick_cast_coefficient": 2.5}, "invalid_campaign", "quick_cast_coefficient"),
    ({"quick_cast_coefficient": 1.5}, "invalid_campaign", "quick_cast_coefficient"),
    ({"daily_budget_fen": "50000"}, "invalid_request", "daily_budget_fen"),
    ({"billing_event": "impression", "bidding": "cost_control"}, "invalid_campaign", "billing_event"),
    ({"billing_event": "view"}, "invalid_campaign", "billing_event"),
]


@pytest.mark.parametrize(("change", "code", "field"), CAMPAIGN_RULES, ids=[f"{c[1]}:{c[2]}:{i}" for i, c in
                                                                          enumerate(CAMPAIGN_RULES)])
def test_every_campaign_rule(client: TestClient, rt: Runtime, kob: Kob, change: dict[str, Any], code: str,
                             field: str) -> None:
    before = plan_rows(rt)
    r = client.post("/v1/campaigns", json={"account_id": kob.stores[0], **SEEDING, **change}, headers=OPERATOR)
    body = r.json()
    assert (r.status_code, body["code"], body["field"]) == (422, code, field), body
    assert body["allowed"] is not None
    assert body["detail"]
    assert plan_rows(rt) == before


def test_an_agency_does_not_advertise_as_itself(client: TestClient, kob: Kob) -> None:
    r = client.post("/v1/campaigns", json={"account_id": kob.agency, **SEEDING}, headers=OPERATOR)
    assert (r.status_code, r.json()["code"], r.json()["field"]) == (422, "invalid_campaign", "account_id")


UNIT_RULES: list[tuple[dict[str, Any], dict[str, Any], str, str]] = [
    ({}, {"bid_fen": None}, "invalid_bid", "bid_fen"),                        # manual needs a bid (None: omitted)
    ({}, {"bid_fen": 5}, "invalid_bid", "bid_fen"),
    ({}, {"bid_fen": 100_001}, "invalid_bid", "bid_fen"),
    ({}, {"target_cost_fen": 100}, "invalid_bid", "bid_fen"),                 # manual takes no target
    ({"bidding": "cost_cap"}, {"bid_fen": 100}, "invalid_bid", "bid_fen"),     # auto sets bids itself
    ({"bidding": "cost_cap"}, {"target_cost_fen": None}, "invalid_bid", "target_cost_fen"),  # a cap needs the cap
    ({}, {"note_ids": []}, "invalid_unit", "note_ids"),
    ({}, {"note_ids": list(range(1, 52))}, "invalid_unit", "note_ids"),
    ({}, {"note_ids": [999_999]}, "note_not_promotable", "note_ids"),
    ({}, {"name": ""}, "invalid_unit", "name"),
    ({}, {"keywords": [{"keyword": "口红"}]}, "invalid_keyword", "keywords"),  # a feed unit has no keywords
    ({"placement": "search"}, {}, "invalid_keyword", "keywords"),              # a search unit needs one
    ({"placement": "search"}, {"keywords": [{"keyword": "口红"}, {"keyword": "口红"}]}, "invalid_keyword", "keywords"),
    ({"placement": "search"}, {"keywords": [{"keyword": "口" * 21}]}, "invalid_keyword", "keyword"),
    ({"placement": "search"}, {"keywords": [{"keyword": "口红", "match": "fuzzy"}]}, "invalid_keyword", "match"),
    ({"placement": "search"}, {"keywords": [{"keyword": "口红", "bid_fen": 1}]}, "invalid_bid", "bid_fen"),
    ({}, {"targeting": {"genders": ["female"]}}, "invalid_targeting", "genders"),  # needs type advanced
    ({}, {"targeting": {"type": "advanced", "genders": ["x"]}}, "invalid_targeting", "genders"),
    ({}, {"targeting": {"type": "advanced", "ages": ["18-30"]}}, "invalid_targeting", "ages"),
    ({}, {"targeting": {"type": "advanced", "devices": ["nokia"]}}, "invalid_targeting", "devices"),
    ({}, {"targeting": {"type": "advanced", "interests": ["knitting"]}}, "invalid_targeting", "interests"),
    ({}, {"targeting": {"type": "advanced", "keyword_behaviour": {"keywords": ["a"], "actions": ["searched"],
                                                                 "days": 5}}},
     "invalid_targeting", "keyword_behaviour.days"),
    ({}, {"targeting": {"type": "advanced", "creator_fans": {"creator_ids": [1], "days": 60}}},
     "invalid_targeting", "creator_fans.days"),
    ({}, {"targeting": {"type": "sideways"}}, "invalid_targeting", "type"),
    ({}, {"targeting": {"zodiac": ["leo"]}}, "invalid_targeting", "zodiac"),
]


@pytest.mark.parametrize(("campaign", "change", "code", "field"), UNIT_RULES,
                         ids=[f"{c[2]}:{c[3]}:{i}" for i, c in enumerate(UNIT_RULES)])
def test_every_unit_rule(client: TestClient, rt: Runtime, kob: Kob, campaign: dict[str, Any], change: dict[str, Any],
                         code: str, field: str) -> None:
    store = kob.stores[0]
    spec = SEEDING | campaign
    c = ok(client.post("/v1/campaigns", json={"account_id": store, **spec}, headers=OPERATOR), 201)
    payload = {"campaign_id": c["id"], **GOOD_UNIT, "note_ids": [note(rt, store)]}
    if spec["bidding"] != "manual":
        payload |= {"bid_fen": None, "target_cost_fen": 100}
    if spec["placement"] == "search" and "keywords" not in change:
        payload["keywords"] = []
    payload |= change
    payload = {k: v for k, v in payload.items() if v is not None or (k == "bid_fen" and "bid_fen" in change)}
    before = plan_rows(rt)
    r = client.post("/v1/units", json=payload, headers=OPERATOR)
    body = r.json()
    assert (r.status_code, body["code"], body["field"]) == (422, code, field), body
    assert plan_rows(rt) == before


def test_a_campaign_change_is_checked_against_its_units(client: TestClient, rt: Runtime, kob: Kob) -> None:
    store = kob.stores[0]
    c = ok(client.post("/v1/campaigns", json={"account_id": store, **SEEDING}, headers=OPERATOR), 201)
    ok(client.post("/v1/units", json={"campaign_id": c["id"], **GOOD_UNIT, "note_ids": [note(rt, store)]},
                   headers=OPERATOR), 201)
    before = plan_rows(rt)
    r = client.patch(f"/v1/campaigns/{c['id']}", json={"bidding": "cost_cap"}, headers=OPERATOR)
    assert (r.status_code, r.json()["code"]) == (422, "invalid_bid")  # its unit still carries a manual bid
    assert plan_rows(rt) == before
    changed = ok(client.patch(f"/v1/campaigns/{c['id']}", json={"daily_budget_fen": None, "name": "改名"},
                              headers=OPERATOR))
    assert (changed["daily_budget_fen"], changed["name"], changed["objective"]) == (None, "改名", "seeding")
    last = ok(client.get(f"/v1/campaigns/{c['id']}/history", headers=OPERATOR))[0]
    assert (last["before"], last["after"]) == ({"name": SEEDING["name"], "daily_budget_fen": 50_000},
                                               {"name": "改名", "daily_budget_fen": None})
