"""The HTTP contract: the minimum endpoints, problem JSON, and the permission matrix."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from conftest import ADMIN_TOKEN, OP, Kob, assert_books, certified
from zhongcao import accounts, billing
from zhongcao.api import create_app
from zhongcao.core import Runtime


@pytest.fixture
def client(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(rt, money_jobs=False)) as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


OPERATOR = bearer(ADMIN_TOKEN)


def key_for(rt: Runtime, account_id: int) -> dict[str, str]:
    return bearer(accounts.do_create_api_key(rt, account_id, actor=OP).key)


def test_minimum_contract_end_to_end(client: TestClient) -> None:
    def post(path: str, json: object = None, headers: dict[str, str] = OPERATOR, status: int = 200) -> dict:
        r = client.post(path, json=json, headers=headers)
        assert r.status_code == status, r.text
        return r.json()

    brand = post("/v1/accounts", {"kind": "brand", "name": "品牌 Brand"}, status=201)
    assert brand | {"id": 0} == brand | {"id": 0, "kind": "brand", "certification": "uncertified"}
    store = post("/v1/accounts", {"kind": "store", "name": "门店 Store"}, status=201)
    for a in (brand, store):
        assert post(f"/v1/accounts/{a['id']}/certification", {"decision": "approve"})["certification"] == "certified"
    brand_key = bearer(post(f"/v1/accounts/{brand['id']}/api-keys", {}, status=201)["key"])
    store_key = bearer(post(f"/v1/accounts/{store['id']}/api-keys", None, status=201)["key"])
    auth = post(f"/v1/accounts/{brand['id']}/authorizations", {"sub_account_id": store["id"]}, brand_key, 201)
    assert auth["status"] == "pending"
    assert post(f"/v1/authorizations/{auth['id']}/confirm", headers=store_key)["status"] == "active"
    subs = client.get(f"/v1/accounts/{brand['id']}/sub-accounts", headers=brand_key).json()
    assert [(s["id"], s["depth"]) for s in subs] == [(store["id"], 1)]
    post(f"/v1/accounts/{brand['id']}/wallet/top-ups", {"amount_fen": 100_000, "idempotency_key": "p1"}, status=201)
    post(f"/v1/accounts/{brand['id']}/wallet/allocations", {"to_account_id": store["id"], "amount_fen": 40_000},
         brand_key, 201)
    post(f"/v1/accounts/{brand['id']}/wallet/reclaims", {"from_account_id": store["id"], "amount_fen": 10_000},
         brand_key, 201)
    wallet = client.get(f"/v1/accounts/{store['id']}/wallet", headers=store_key).json()
    assert wallet == {"account_id": store["id"], "balance_fen": 30_000, "reserved_fen": 0, "available_fen": 30_000,
                      "delegated_fen": 30_000}
    lease = post(f"/v1/accounts/{store['id']}/wallet/leases", {"amount_fen": 5_000, "ttl_seconds": 30}, store_key,
                 201)
    post("/v1/leases/commits", {"commits": [{"lease_id": lease["id"], "spent_fen": 1_200}]}, store_key)
    assert post(f"/v1/leases/{lease['id']}/release", {"spent_fen": 1_500}, store_key)["state"] == "closed"
    ledger = client.get(f"/v1/accounts/{store['id']}/ledger", headers=store_key).json()
    assert [e["kind"] for e in ledger] == ["spend", "spend", "reclaim", "allocate"]
    audit = client.get(f"/v1/accounts/{store['id']}/audit", headers=store_key).json()
    assert {"lease.release", "wallet.allocate", "authorization.active"} <= {a["action"] for a in audit}
    revoked = post(f"/v1/authorizations/{auth['id']}/revoke", headers=brand_key)
    assert (revoked["status"], revoked["returned_fen"]) == ("revoked", 28_500)
    assert client.get(f"/v1/accounts/{brand['id']}/wallet", headers=brand_key).json()["balance_fen"] == 98_500
    assert client.get("/openapi.json").json()["paths"]["/v1/accounts/{account_id}/wallet"]


@pytest.mark.parametrize(("body", "field"), [
    ({"amount_fen": "100", "idempotency_key": "k"}, "amount_fen"),
    ({"amount_fen": 1.5, "idempotency_key": "k"}, "amount_fen"),
    ({"amount_fen": 100}, "idempotency_key"),
    ({"amount_fen": 100, "idempotency_key": "k", "currency": "usd"}, "currency"),
])
def test_malformed_bodies_get_a_problem_and_change_nothing(rt: Runtime, client: TestClient, kob: Kob,
                                                            body: dict, field: str) -> None:
    r = client.post(f"/v1/accounts/{kob.brand}/wallet/top-ups", json=body, headers=OPERATOR)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert (problem["code"], problem["field"], problem["status"]) == ("invalid_request", field, 422)
    assert problem["allowed"]
    assert billing.get_wallet(rt, kob.brand, actor=OP).balance_fen == 0


def test_domain_errors_carry_code_field_and_allowed(client: TestClient, rt: Runtime, kob: Kob) -> None:
    r = client.post(f"/v1/accounts/{kob.brand}/wallet/allocations", headers=key_for(rt, kob.brand),
                    json={"to_account_id": kob.stores[0], "amount_fen": 1})
    assert r.status_code == 409
    assert r.json() | {"detail": ""} == {
        "type": "https://zhongcao.dev/problems/insufficient_funds", "title": "insufficient funds", "status": 409,
        "code": "insufficient_funds", "field": "amount_fen", "allowed": "at most 0 fen", "detail": ""}
    r = client.post("/v1/accounts", json={"kind": "shop", "name": "x"}, headers=OPERATOR)
    assert (r.status_code, r.json()["code"], r.json()["field"]) == (422, "invalid_kind", "kind")
    assert "store" in r.json()["allowed"]


@pytest.mark.parametrize(("headers", "code"), [
    ({}, "unauthenticated"),
    (bearer("zc_not-a-real-key"), "invalid_api_key"),
    ({"Authorization": "Basic abc"}, "unauthenticated"),
])
def test_authentication_failures(client: TestClient, kob: Kob, headers: dict[str, str], code: str) -> None:
    r = client.get(f"/v1/accounts/{kob.brand}/wallet", headers=headers)
    assert (r.status_code, r.json()["code"]) == (401, code)


def test_revoked_key_stops_working(client: TestClient, rt: Runtime, kob: Kob) -> None:
    issued = accounts.do_create_api_key(rt, kob.brand, actor=OP)
    assert client.get(f"/v1/accounts/{kob.brand}", headers=bearer(issued.key)).status_code == 200
    client.post(f"/v1/api-keys/{issued.view.id}/revoke", headers=bearer(issued.key))
    assert client.get(f"/v1/accounts/{kob.brand}", headers=bearer(issued.key)).status_code == 401


def test_unknown_route_is_a_problem(client: TestClient) -> None:
    r = client.get("/v1/nowhere")
    assert (r.status_code, r.json()["code"]) == (404, "route_not_found")


def test_member_key_acts_with_its_role(client: TestClient, rt: Runtime, kob: Kob) -> None:
    billing.do_top_up(rt, kob.brand, 1_000, idempotency_key="t", actor=OP)
    member = accounts.do_add_member(rt, kob.brand, "运营 Ops", "operator", actor=OP)
    key = bearer(accounts.do_create_api_key(rt, kob.brand, member_id=member.id, actor=OP).key)
    assert client.get(f"/v1/accounts/{kob.brand}/wallet", headers=key).status_code == 200
    r = client.post(f"/v1/accounts/{kob.brand}/wallet/allocations", headers=key,
                    json={"to_account_id": kob.stores[0], "amount_fen": 1})
    assert (r.status_code, r.json()["code"], r.json()["allowed"]) == (403, "forbidden", ["operate", "read"])


# --- the permission matrix -------------------------------------------------------------------------

ACTORS = ["brand", "store", "sibling", "agency", "creator", "operator"]


def _lease(rt: Runtime, k: Kob) -> dict[str, int]:
    return {"lease": billing.do_reserve(rt, k.stores[0], 100, 60, actor=OP).id}


def _pool(rt: Runtime, k: Kob) -> dict[str, int]:
    pool = billing.do_create_pool(rt, k.brand, "pool", actor=OP)
    billing.do_fund_pool(rt, pool.id, 10_000, actor=OP)
    billing.do_set_pool_member(rt, pool.id, k.stores[0], 1_000, actor=OP)
    return {"pool": pool.id}


def _pending(rt: Runtime, k: Kob) -> dict[str, int]:
    free = certified(rt, "store", "空闲门店 Free store")
    return {"auth": accounts.do_invite(rt, k.brand, free, actor=OP).id, "free_store": free}


def _active(rt: Runtime, k: Kob) -> dict[str, int]:
    ids = _pending(rt, k)
    accounts.do_confirm(rt, ids["auth"], actor=OP)
    return ids


def _person(rt: Runtime, k: Kob) -> dict[str, int]:
    return {"person": certified(rt, "creator", "员工 KOS")}


def _binding(rt: Runtime, k: Kob) -> dict[str, int]:
    return {"binding": accounts.do_bind_kos(rt, k.brand, _person(rt, k)["person"], actor=OP).id}


def _grant(rt: Runtime, k: Kob) -> dict[str, int]:
    return {"grant": accounts.do_grant_agency(rt, k.brand, k.agency, ["read"], actor=OP).id}


def _note(rt: Runtime, k: Kob) -> dict[str, int]:
    from zhongcao.content import do_create_note

    return {"note": do_create_note(rt, k.stores[0], title="门店新品 New in store", body="试用测评", actor=OP).id}


SEEDING = {"name": "种草 Seeding", "objective": "seeding", "placement": "feed", "bidding": "manual",
           "optimize_for": "click", "daily_budget_fen": 50_000}


def _campaign(rt: Runtime, k: Kob) -> dict[str, int]:
    from zhongcao import ads

    return {"campaign": ads.do_create_campaign(rt, k.stores[0], SEEDING | {"placement": "search"}, actor=OP).id,
            **_note(rt, k)}


def _unit(rt: Runtime, k: Kob) -> dict[str, int]:
    from zhongcao import ads

    ids = _campaign(rt, k)
    unit = ads.do_create_unit(rt, ids["campaign"], {"name": "u", "bid_fen": 100, "note_ids": [ids["note"]],
                                                    "keywords": [{"keyword": "测评"}]}, actor=OP)
    return ids | {"unit": unit.id, "keyword": unit.keywords[0].id}


def _click(rt: Runtime, k: Kob) -> dict[str, object]:
    from zhongcao import ads
    from zhongcao.ads.clicks import ClickToken, load_secret, sign

    ids = _unit(rt, k)
    unit = ads.get_unit(rt, ids["unit"], actor=OP)
    token = ClickToken(1, 77, unit.campaign_id, unit.id, 1, ids["note"], 0, 50, int(rt.now().timestamp()), 1, 1)
    return ids | {"click_id": sign(token, load_secret(rt))}


def _hidden_note(rt: Runtime, k: Kob) -> dict[str, int]:
    from zhongcao.content.models import Note

    note = _note(rt, k)["note"]
    with rt.db.transaction() as s:
        s.get_one(Note, note).status = "restricted"
    return {"note": note}


def _key(rt: Runtime, k: Kob) -> dict[str, int]:
    return {"key_id": accounts.do_create_api_key(rt, k.stores[0], actor=OP).view.id}


def _shop(rt: Runtime, k: Kob) -> dict[str, int]:
    from zhongcao import commerce

    rt.settings.shop_min_followers = 0
    commerce.do_open_shop(rt, k.stores[0], followers=0, actor=OP)
    return {"product": commerce.do_create_product(rt, k.stores[0], name="面霜 Cream", price_fen=100, category="beauty",
                                                  stock=100, actor=OP).id}


def _no_followers_needed(rt: Runtime, k: Kob) -> dict[str, int]:
    rt.settings.shop_min_followers = 0
    return {}


def _order_at(*steps: str):  # type: ignore[no-untyped-def]
    def make(rt: Runtime, k: Kob) -> dict[str, int]:
        from zhongcao import commerce
        from zhongcao.events import EventIds

        ids = EventIds(rt.clock)
        order = commerce.do_create_order(rt, ids, 5, [(_shop(rt, k)["product"], 1)], commerce.Source("search", "q"),
                                         actor=OP).id
        for step in steps:
            commerce.do_order_transition(rt, ids, order, step, actor=OP)
        return {"order": order}

    return make


def _live(rt: Runtime, k: Kob, start: bool = False) -> dict[str, int]:
    from zhongcao import commerce

    live = commerce.do_create_live(rt, k.stores[0], title="直播 Live", product_ids=[], actor=OP).id
    if start:
        commerce.do_live_transition(rt, live, "start", actor=OP)
    return {"live": live}


def _on_air(rt: Runtime, k: Kob) -> dict[str, int]:
    return _live(rt, k, start=True) | {"consumer": 5}


def _conversation(rt: Runtime, k: Kob) -> dict[str, int]:
    from zhongcao import commerce
    from zhongcao.events import EventIds

    return {"conversation": commerce.do_open_conversation(rt, EventIds(rt.clock), 5, k.stores[0],
                                                          commerce.Source("profile", str(k.stores[0])), actor=OP).id}


def _seat(rt: Runtime, k: Kob) -> dict[str, int]:
    return _conversation(rt, k) | {"member": accounts.do_add_member(rt, k.stores[0], "客服", "operator", actor=OP).id}


def _lead(rt: Runtime, k: Kob) -> dict[str, int]:
    from zhongcao import commerce
    from zhongcao.events import EventIds

    return {"lead": commerce.do_lead_card(rt, EventIds(rt.clock), _conversation(rt, k)["conversation"], "phone",
                                         "13800138000", actor=OP).lead_id}


def _located(rt: Runtime, k: Kob) -> dict[str, int]:
    from zhongcao import commerce

    commerce.do_set_poi(rt, k.stores[0], name="店", address="路 1 号", city="上海", lat=31.2, lng=121.4, actor=OP)
    return _conversation(rt, k)


def _visit_code(rt: Runtime, k: Kob) -> dict[str, object]:
    from zhongcao import commerce

    return {"code": commerce.do_issue_visit_code(rt, _located(rt, k)["conversation"], actor=OP).code}


def _ugc(rt: Runtime, k: Kob) -> dict[str, int]:
    from zhongcao import commerce
    from zhongcao.content import do_create_note

    note = do_create_note(rt, k.creator, title="Brand 面霜测评", body="真实体验", actor=OP).id
    commerce.do_feature_note(rt, k.brand, note, actor=OP)
    return {"note": note}


def _creator(rt: Runtime, k: Kob) -> dict[str, int]:
    from zhongcao import market

    market.do_set_creator_profiles(rt, [market.CreatorProfile(k.creator, "skincare", "上海", "female", 50_000)],
                                   actor=OP)
    market.refresh(rt)
    return {"creator": k.creator}


def _brief(rt: Runtime, k: Kob) -> dict[str, int]:
    from zhongcao import market

    now = rt.now()
    brief = market.do_create_brief(rt, k.brand, {
        "title": "种草", "category": "skincare", "budget_fen": 200_000, "sample_required": False,
        "publish_from": now.isoformat(), "publish_to": (now + timedelta(days=7)).isoformat()}, actor=OP)
    return {"brief": brief.id, **_creator(rt, k)}


def _application(rt: Runtime, k: Kob) -> dict[str, object]:
    from zhongcao import market

    ids = _brief(rt, k)
    deal = market.do_apply(rt, ids["brief"], k.creator, 50_000, actor=OP)
    return {**ids, "collaboration": deal.id, "action": "accept"}


def _published(rt: Runtime, k: Kob) -> dict[str, object]:
    from zhongcao import ads, market

    ids = _application(rt, k)
    deal = int(ids["collaboration"])  # type: ignore[call-overload]
    market.do_accept(rt, deal, actor=OP)
    market.do_fund(rt, deal, actor=OP)
    market.do_submit_draft(rt, deal, title="面霜实测", body="好用", actor=OP)
    market.do_approve(rt, deal, actor=OP)
    market.do_publish(rt, deal, actor=OP)
    return {**ids, "campaign": ads.do_create_campaign(rt, k.brand, SEEDING, actor=OP).id}


READ_STORE = [200, 200, 404, 200, 404, 200]        # the store's own data
READ_BRAND = [200, 404, 404, 200, 404, 200]        # the brand's data: never its stores'
MANAGE_STORE = [201, 201, 404, 403, 404, 201]      # the agency holds read and operate, not manage
OPERATE_STORE = [200, 200, 404, 200, 404, 200]     # the store's plans: its chain, its agency, the operator
CREATE_FOR_STORE = [201, 201, 404, 201, 404, 201]
FINANCE_BRAND = [201, 404, 404, 403, 404, 201]
OPERATOR_ONLY = [403, 403, 403, 403, 403, 201]
FOR_CONSUMER = [403, 403, 404, 403, 404, 200]      # the app acts for a consumer, on what the store's side sees
LIVE = [200] * 6
CREATOR_OWN = [404, 404, 404, 404, 200, 200]
BRIEF_SIDES = [200, 404, 404, 200, 200, 200]      # the brand's side (its agency too), the creator, the operator
SEARCHED = {"kind": "search", "id": "面霜"}
# Each row: method, path, body, expected status per actor above, and what to create before each attempt.
MATRIX = [
    ("GET", "/v1/accounts/{store}", None, READ_STORE, None),
    ("GET", "/v1/accounts/{store}/wallet", None, READ_STORE, None),
    ("GET", "/v1/accounts/{store}/ledger", None, READ_STORE, None),
    ("GET", "/v1/accounts/{store}/audit", None, READ_STORE, None),
    ("GET", "/v1/accounts/{store}/members", None, READ_STORE, None),
    ("GET", "/v1/accounts/{store}/authorizations", None, READ_STORE, None),
    ("GET", "/v1/accounts/{store}/api-keys", None, [200, 200, 404, 403, 404, 200], None),
    ("GET", "/v1/accounts/{brand}/sub-accounts", None, READ_BRAND, None),
    ("GET", "/v1/accounts/{brand}/wallet", None, READ_BRAND, None),
    ("GET", "/v1/accounts/{brand}/kos", None, READ_BRAND, None),
    ("GET", "/v1/accounts/{brand}/agency-grants", None, READ_BRAND, None),
    ("GET", "/v1/accounts/{brand}/pools", None, READ_BRAND, None),
    ("POST", "/v1/accounts", {"kind": "store", "name": "x"}, OPERATOR_ONLY, None),
    ("POST", "/v1/accounts/{store}/certification", {"decision": "reject"}, [403, 403, 403, 403, 403, 409], None),
    ("POST", "/v1/accounts/{store}/certification/request", None, [409, 409, 404, 403, 404, 409], None),
    ("POST", "/v1/accounts/{store}/api-keys", {}, MANAGE_STORE, None),
    ("POST", "/v1/api-keys/{key_id}/revoke", None, [200, 200, 404, 403, 404, 200], _key),
    ("POST", "/v1/accounts/{store}/members", {"name": "m", "role": "analyst"}, MANAGE_STORE, None),
    ("POST", "/v1/accounts/{brand}/authorizations", {"sub_account_id": "{free_store}"},
     [201, 404, 404, 403, 404, 201], lambda rt, k: {"free_store": certified(rt, "store", "空闲 Free")}),
    ("GET", "/v1/authorizations/{auth}", None, READ_BRAND, _pending),
    ("POST", "/v1/authorizations/{auth}/confirm", None, [403, 404, 404, 403, 404, 200], _pending),
    ("POST", "/v1/authorizations/{auth}/decline", None, [403, 404, 404, 403, 404, 200], _pending),
    ("POST", "/v1/authorizations/{auth}/revoke", None, [200, 404, 404, 403, 404, 200], _active),
    ("POST", "/v1/accounts/{brand}/kos", {"account_id": "{person}"}, FINANCE_BRAND, _person),
    ("POST", "/v1/kos-bindings/{binding}/confirm", None, [403, 404, 404, 404, 404, 200], _binding),
    ("POST", "/v1/kos-bindings/{binding}/decline", None, [403, 404, 404, 404, 404, 200], _binding),
    ("POST", "/v1/accounts/{brand}/agency-grants", {"agency_id": "{agency}", "scopes": ["read"]}, FINANCE_BRAND, None),
    ("POST", "/v1/agency-grants/{grant}/revoke", None, [200, 404, 404, 403, 404, 200], _grant),
    ("POST", "/v1/accounts/{brand}/wallet/allocations", {"to_account_id": "{store}", "amount_fen": 100},
     FINANCE_BRAND, None),
    ("POST", "/v1/accounts/{brand}/wallet/reclaims", {"from_account_id": "{store}", "amount_fen": 100},
     FINANCE_BRAND, None),
    ("POST", "/v1/accounts/{store}/wallet/top-ups", {"amount_fen": 100, "idempotency_key": "m"}, OPERATOR_ONLY, None),
    ("POST", "/v1/accounts/{store}/wallet/refunds", {"amount_fen": 1}, [403, 403, 403, 403, 403, 409], None),
    ("POST", "/v1/accounts/{store}/wallet/leases", {"amount_fen": 100, "ttl_seconds": 30},
     [201, 201, 404, 201, 404, 201], None),
    ("GET", "/v1/leases/{lease}", None, READ_STORE, _lease),
    ("POST", "/v1/leases/{lease}/commit", {"spent_fen": 10}, READ_STORE, _lease),
    ("POST", "/v1/leases/commits", {"commits": [{"lease_id": "{lease}", "spent_fen": 10}]}, READ_STORE, _lease),
    ("POST", "/v1/leases/{lease}/release", {"spent_fen": 10}, READ_STORE, _lease),
    ("POST", "/v1/accounts/{brand}/pools", {"name": "p"}, FINANCE_BRAND, None),
    ("GET", "/v1/pools/{pool}", None, READ_BRAND, _pool),
    ("PUT", "/v1/pools/{pool}/members", {"store_id": "{store}", "daily_cap_fen": 500},
     [200, 404, 404, 403, 404, 200], _pool),
    ("DELETE", "/v1/pools/{pool}/members/{store}", None, [200, 404, 404, 403, 404, 200], _pool),
    ("POST", "/v1/pools/{pool}/fundings", {"amount_fen": 100}, FINANCE_BRAND, _pool),
    ("POST", "/v1/pools/{pool}/drains", {"amount_fen": 100}, FINANCE_BRAND, _pool),
    ("POST", "/v1/pools/{pool}/leases", {"store_id": "{store}", "amount_fen": 100},
     [201, 201, 404, 201, 404, 201], _pool),
    ("POST", "/v1/notes", {"author_id": "{store}", "title": "新品 New", "body": "好用"}, [201, 201, 404, 201, 404, 201],
     None),
    ("GET", "/v1/notes/{note}", None, [200] * 6, _note),             # published notes are public
    ("GET", "/v1/notes/{note}", None, READ_STORE, _hidden_note),     # a restricted one is its side's only
    ("GET", "/v1/search?q=测评", None, [200] * 6, _note),
    ("GET", "/v1/search/suggestions?q=门店", None, [200] * 6, _note),
    ("POST", "/v1/notes/{note}/engagements", {"consumer_id": 9, "kind": "like"}, [201] * 6, _note),
    ("GET", "/v1/feed?consumer_id=5&n=3", None, [200] * 6, _note),
    # The author's side deletes (a sibling sees the public note, so 403); only the operator moderates.
    ("POST", "/v1/notes/{note}/status", {"status": "deleted"}, [200, 200, 403, 200, 403, 200], _note),
    ("POST", "/v1/notes/{note}/status", {"status": "restricted", "reason": "广告法"}, [403] * 5 + [200], _note),
    ("POST", "/v1/notes/{note}/status", {"status": "deleted"}, READ_STORE, _hidden_note),
    ("GET", "/v1/creators/{store}/stats", None, [200] * 6, None),
    ("GET", "/v1/search/hot", None, [200] * 6, None),
    ("POST", "/v1/campaigns", {"account_id": "{store}", **SEEDING}, CREATE_FOR_STORE, None),
    ("GET", "/v1/campaigns?account_id={store}", None, READ_STORE, _campaign),
    ("GET", "/v1/campaigns/{campaign}", None, READ_STORE, _campaign),
    ("PATCH", "/v1/campaigns/{campaign}", {"name": "改名 Renamed"}, OPERATE_STORE, _campaign),
    ("GET", "/v1/campaigns/{campaign}/history", None, READ_STORE, _campaign),
    ("GET", "/v1/campaigns/{campaign}/units", None, READ_STORE, _campaign),
    ("GET", "/v1/campaigns/{campaign}/delivery", None, READ_STORE, _campaign),
    ("GET", "/v1/reports?account_id={store}&level=unit", None, READ_STORE, None),
    ("POST", "/v1/units", {"campaign_id": "{campaign}", "name": "u", "bid_fen": 100, "note_ids": ["{note}"],
                           "keywords": [{"keyword": "新品"}]}, CREATE_FOR_STORE, _campaign),
    ("GET", "/v1/units/{unit}", None, READ_STORE, _unit),
    ("PATCH", "/v1/units/{unit}", {"bid_fen": 120}, OPERATE_STORE, _unit),
    ("POST", "/v1/units/{unit}/keywords", {"keywords": ["招聘"], "negative": True}, CREATE_FOR_STORE, _unit),
    ("PATCH", "/v1/keywords/{keyword}", {"bid_fen": 150}, OPERATE_STORE, _unit),
    ("GET", "/v1/units/{unit}/creatives", None, READ_STORE, _unit),
    ("POST", "/v1/creatives", {"unit_id": "{unit}", "note_id": "{note}", "component": {"kind": "dm"}},
     CREATE_FOR_STORE, _unit),
    ("POST", "/v1/ads/status", {"level": "unit", "ids": ["{unit}"], "status": "paused"}, OPERATE_STORE, _unit),
    ("POST", "/v1/ad-clicks", {"click_id": "{click_id}"}, [200] * 6, _click),  # the click id is the credential
    ("POST", "/v1/accounts/{store}/conversion-secret", None, MANAGE_STORE, None),
    ("PUT", "/v1/accounts/{store}/offsite-totals", {"day": "2026-03-01", "platform": "jd", "orders": 3, "gmv_fen": 900},
     OPERATE_STORE, None),
    ("GET", "/v1/accounts/{store}/offsite-tracking?range=7d", None, READ_STORE, None),
    ("POST", "/v1/products", {"account_id": "{store}", "name": "面霜", "price_fen": 100, "category": "beauty",
                              "stock": 5}, CREATE_FOR_STORE, None),
    ("GET", "/v1/products/{product}", None, LIVE, _shop),                   # products are public
    ("POST", "/v1/products/{product}/restock", {"delta": 1}, OPERATE_STORE, _shop),
    ("GET", "/v1/accounts/{store}/products", None, LIVE, _shop),
    ("GET", "/v1/accounts/{store}/shop", None, LIVE, None),
    ("POST", "/v1/accounts/{store}/shop", None, MANAGE_STORE, _no_followers_needed),
    ("POST", "/v1/orders", {"consumer_id": 5, "items": [{"product_id": "{product}", "qty": 1}],
                            "source": {"kind": "search", "id": "面霜"}}, OPERATOR_ONLY, _shop),
    ("POST", "/v1/shop-visits", {"consumer_id": 5, "account_id": "{store}", "source": SEARCHED}, OPERATOR_ONLY, _shop),
    ("POST", "/v1/cart-items", {"consumer_id": 5, "product_id": "{product}", "source": SEARCHED}, OPERATOR_ONLY, _shop),
    ("GET", "/v1/carts/{consumer}", None, [403] * 5 + [200], lambda rt, k: {"consumer": 5}),
    ("GET", "/v1/orders/{order}", None, READ_STORE, _order_at()),
    ("POST", "/v1/orders/{order}/pay", None, FOR_CONSUMER, _order_at()),
    ("POST", "/v1/orders/{order}/ship", None, OPERATE_STORE, _order_at("pay")),
    ("POST", "/v1/orders/{order}/complete", None, FOR_CONSUMER, _order_at("pay", "ship")),
    ("POST", "/v1/orders/{order}/refund", None, OPERATE_STORE, _order_at("pay")),
    ("POST", "/v1/orders/{order}/cancel", None, FOR_CONSUMER, _order_at()),
    ("POST", "/v1/live-sessions", {"host_account_id": "{store}", "title": "直播"}, CREATE_FOR_STORE, None),
    ("GET", "/v1/live-sessions/{live}", None, READ_STORE, _live),
    ("POST", "/v1/live-sessions/{live}/start", None, OPERATE_STORE, _live),
    ("POST", "/v1/live-sessions/{live}/end", None, OPERATE_STORE, _on_air),
    ("POST", "/v1/live-sessions/{live}/pin", {"product_id": None}, OPERATE_STORE, _live),
    ("POST", "/v1/live-sessions/{live}/reservations", {"consumer_id": 5}, OPERATOR_ONLY, _live),
    ("POST", "/v1/live-sessions/{live}/viewers", {"consumer_id": 5, "source": {"kind": "search", "id": "直播"}},
     OPERATOR_ONLY, _on_air),
    ("POST", "/v1/live-sessions/{live}/viewers/{consumer}/leave", None, [403] * 5 + [200], _on_air),
    ("POST", "/v1/live-sessions/{live}/activity", {"consumer_id": 5, "kind": "follow"}, OPERATOR_ONLY, _on_air),
    ("POST", "/v1/conversations", {"consumer_id": 5, "account_id": "{store}",
                                   "origin": {"kind": "profile", "id": "{store}"}}, OPERATOR_ONLY, None),
    ("GET", "/v1/accounts/{store}/conversations", None, READ_STORE, _conversation),
    ("GET", "/v1/conversations/{conversation}", None, OPERATE_STORE, _conversation),
    ("GET", "/v1/conversations/{conversation}/messages", None, OPERATE_STORE, _conversation),
    ("POST", "/v1/conversations/{conversation}/messages", {"sender": "account", "text": "您好"}, CREATE_FOR_STORE,
     _conversation),
    ("POST", "/v1/conversations/{conversation}/assign", {"member_id": "{member}"}, OPERATE_STORE, _seat),
    ("POST", "/v1/conversations/{conversation}/lead-cards", {"kind": "phone", "value": "13800138000"},
     [403, 403, 404, 403, 404, 201], _conversation),
    ("POST", "/v1/conversations/{conversation}/visit-codes", None, CREATE_FOR_STORE, _located),
    ("POST", "/v1/visit-codes/redeem", {"code": "{code}"}, OPERATE_STORE, _visit_code),
    ("GET", "/v1/accounts/{store}/leads", None, READ_STORE, _lead),
    ("POST", "/v1/leads/{lead}/status", {"status": "contacted"}, OPERATE_STORE, _lead),
    ("GET", "/v1/accounts/{store}/dm-stats?since=2026-03-01T00:00:00Z&until=2026-03-03T00:00:00Z", None, READ_STORE,
     _conversation),
    ("PUT", "/v1/accounts/{store}/lead-webhook", {"url": "https://crm.example.com/leads"},
     [200, 200, 404, 403, 404, 200], None),
    ("GET", "/v1/accounts/{store}/lead-webhook/deliveries", None, READ_STORE, None),
    ("PUT", "/v1/accounts/{store}/poi", {"name": "店", "address": "路 1 号", "city": "上海", "lat": 31.2, "lng": 121.4},
     OPERATE_STORE, None),
    ("GET", "/v1/stores?city=上海", None, LIVE, _located),
    ("POST", "/v1/accounts/{store}/pushes", {"text": "上新", "audience": "consumers", "consumer_ids": [1]},
     CREATE_FOR_STORE, None),
    ("GET", "/v1/accounts/{brand}/featured-notes", None, LIVE, _ugc),
    ("GET", "/v1/accounts/{brand}/mentions", None, READ_BRAND, _ugc),
    ("POST", "/v1/accounts/{brand}/featured-notes", {"note_id": "{note}"}, [201, 404, 404, 201, 404, 201], _ugc),
    ("DELETE", "/v1/accounts/{brand}/featured-notes/{note}", None, [200, 404, 404, 200, 404, 200], _ugc),
    # the creator marketplace: a creator's profile is its own; discovery, plans and audits are for anyone signed in
    ("PUT", "/v1/creators/{creator}/profile", {"category": "skincare", "region": "上海"}, CREATOR_OWN, _creator),
    ("GET", "/v1/creators/{creator}", None, LIVE, _creator),
    ("POST", "/v1/creators/search", {"category": "skincare"}, LIVE, _creator),
    ("POST", "/v1/creators/plan", {"budget_fen": 100_000}, LIVE, _creator),
    ("POST", "/v1/creators/audit", {"rows": [{"account_ref": "a", "follower_count": 3}]}, LIVE, None),
    ("GET", "/v1/creators/{creator}/collaborations", None, CREATOR_OWN, _application),
    ("POST", "/v1/briefs", {"brand_id": "{brand}", "title": "种草", "category": "skincare", "budget_fen": 100_000,
                            "publish_from": "2026-03-02T00:00:00+08:00", "publish_to": "2026-03-20T00:00:00+08:00"},
     [201, 404, 404, 201, 404, 201], None),
    ("GET", "/v1/briefs/{brief}", None, BRIEF_SIDES, _brief),  # an open brief: its brand's side and any creator
    ("GET", "/v1/accounts/{brand}/briefs", None, READ_BRAND, _brief),
    ("POST", "/v1/briefs/{brief}/close", None, [200, 404, 404, 200, 404, 200], _brief),
    ("POST", "/v1/briefs/{brief}/invitations", {"creator_id": "{creator}"}, [201, 404, 404, 201, 403, 201], _brief),
    ("POST", "/v1/briefs/{brief}/applications", {"creator_id": "{creator}", "quote_fen": 50_000},
     [403, 404, 404, 403, 201, 201], _brief),
    ("GET", "/v1/briefs/{brief}/collaborations", None, BRIEF_SIDES, _application),
    ("GET", "/v1/collaborations/{collaboration}", None, BRIEF_SIDES, _application),
    ("GET", "/v1/collaborations/{collaboration}/evaluation", None, BRIEF_SIDES, _application),
    ("POST", "/v1/collaborations/{collaboration}/{action}", None, [200, 404, 404, 200, 403, 200], _application),
    ("POST", "/v1/collaborations/{collaboration}/boost", {"campaign_id": "{campaign}", "bid_fen": 150},
     [201, 404, 404, 201, 404, 201], _published),
]


def _fill(value: object, ids: dict[str, int]) -> object:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def _fingerprint(rt: Runtime) -> tuple[object, ...]:
    from zhongcao.accounts.models import Account, AuditEntry, Authorization, KosBinding
    from zhongcao.ads.models import CampaignRow, CreativeRow, KeywordRow, UnitRow
    from zhongcao.billing.models import Entry, Lease, Pool, PoolMember, Wallet
    from zhongcao.content.models import Note
    from zhongcao.market.models import BriefRow, CollaborationRow, CreatorProfileRow

    with rt.db.read() as s:
        counts = tuple(s.scalar(select(func.count()).select_from(m)) or 0
                       for m in (AuditEntry, Account, Authorization, KosBinding, Entry, Lease, Pool, PoolMember))
        wallets = tuple(s.execute(select(Wallet.id, Wallet.balance_fen, Wallet.reserved_fen)).all())
        notes = tuple(s.execute(select(Note.id, Note.status, Note.version)).all())
        plans = tuple(s.scalar(select(func.count()).select_from(m)) or 0
                      for m in (CampaignRow, UnitRow, KeywordRow, CreativeRow))
        versions = tuple(s.execute(select(CampaignRow.id, CampaignRow.version)).all()) + tuple(
            s.execute(select(UnitRow.id, UnitRow.version, UnitRow.status)).all())
        deals = tuple(s.execute(select(BriefRow.id, BriefRow.status)).all()) + tuple(
            s.execute(select(CollaborationRow.id, CollaborationRow.state, CollaborationRow.version)).all()) + tuple(
            s.execute(select(CreatorProfileRow.creator_id, CreatorProfileRow.updated_at)).all())
    return counts, wallets, notes, plans, versions, deals


def test_the_matrix_covers_every_authenticated_endpoint(client: TestClient) -> None:
    routes = {(m, p) for p, ops in client.get("/openapi.json").json()["paths"].items() for m in ops}
    covered = {(m.lower(), p.split("?")[0]) for m, p, *_ in MATRIX}
    public = {("get", "/v1/health"), ("get", "/v1/problems"), ("get", "/v1/categories"),
              ("post", "/v1/conversions")}  # authenticated by the advertiser's HMAC, not a bearer token

    def shape(path: str) -> str:
        import re

        return re.sub(r"\{[^}]+\}", "{}", path)

    assert {(m, shape(p)) for m, p in routes} - public == {(m, shape(p)) for m, p in covered}


@pytest.mark.parametrize(("method", "path", "body", "expected", "make"), MATRIX,
                         ids=[f"{m} {p}" for m, p, *_ in MATRIX])
def test_permission_matrix(rt: Runtime, client: TestClient, kob: Kob, method: str, path: str, body: object,
                           expected: list[int], make) -> None:  # type: ignore[no-untyped-def]
    billing.do_top_up(rt, kob.brand, 1_000_000, idempotency_key="seed", actor=OP)
    billing.do_allocate(rt, kob.brand, kob.stores[0], 50_000, actor=kob.actor(kob.brand))
    accounts.do_grant_agency(rt, kob.brand, kob.agency, ["read", "operate"], actor=kob.actor(kob.brand))
    base = {"brand": kob.brand, "store": kob.stores[0], "agency": kob.agency}
    headers = {
        "brand": key_for(rt, kob.brand), "store": key_for(rt, kob.stores[0]), "sibling": key_for(rt, kob.stores[1]),
        "agency": key_for(rt, kob.agency), "creator": key_for(rt, kob.creator), "operator": OPERATOR,
    }
    got = []
    for who in ACTORS:
        ids = base | (make(rt, kob) if make else {})
        before = _fingerprint(rt)
        r = client.request(method, path.format(**ids), json=_fill(body, ids), headers=headers[who])
        got.append(r.status_code)
        if r.status_code >= 400:
            assert r.json()["code"], r.text
            assert _fingerprint(rt) == before, f"{who}: a refused request changed state"
        elif method == "POST" and path.endswith("/authorizations"):
            billing.do_revoke_authorization(rt, r.json()["id"], actor=OP)  # let the next actor invite again
    assert dict(zip(ACTORS, got, strict=True)) == dict(zip(ACTORS, expected, strict=True))
    assert_books(rt)


def test_not_found_does_not_leak_other_tenants(client: TestClient, rt: Runtime, kob: Kob) -> None:
    """Another tenant's account and an id that does not exist answer the same way."""
    key = key_for(rt, kob.stores[0])
    theirs = client.get(f"/v1/accounts/{kob.other_store}/wallet", headers=key).json()
    nobody = client.get("/v1/accounts/999999/wallet", headers=key).json()
    assert theirs | {"detail": ""} == nobody | {"detail": ""}
    assert theirs["code"] == "account_not_found"
