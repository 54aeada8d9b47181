"""Ads served into real feed and search pages over HTTP, and clicks charged through budget leases: the
ledger, the click records and the advertiser's budget agree to the fen."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from conftest import ADMIN_TOKEN, OP, Kob, assert_books, key
from zhongcao import ads, billing
from zhongcao.ads.delivery import DeliverySpec
from zhongcao.ads.models import AdClick
from zhongcao.api import create_app
from zhongcao.content import ContentEngine, do_create_note
from zhongcao.core import Runtime
from zhongcao.events import EventKind, tail

OPERATOR = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SEEDING = {"objective": "seeding", "placement": "feed", "bidding": "manual", "optimize_for": "click"}


@pytest.fixture
def client(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(rt, money_jobs=False)) as c:
        yield c


def fund(rt: Runtime, kob: Kob, store: int, fen: int) -> None:
    billing.do_top_up(rt, kob.brand, fen, idempotency_key=f"top-{store}-{fen}", actor=OP)
    billing.do_allocate(rt, kob.brand, store, fen, actor=kob.actor(kob.brand))


def advertise(rt: Runtime, store: int, bid: int, title: str = "秋冬口红色号推荐", **campaign: Any) -> tuple[int, int]:
    c = ads.do_create_campaign(rt, store, SEEDING | {"name": title} | campaign, actor=OP).id
    note = do_create_note(rt, store, title=title, body="显白", category="beauty", actor=OP).id
    extra = {"keywords": [{"keyword": "口红"}]} if campaign.get("placement") == "search" else {}
    u = ads.do_create_unit(rt, c, {"name": "u", "bid_fen": bid, "note_ids": [note]} | extra, actor=OP).id
    ads.do_create_creative(rt, u, note, {"kind": "dm"}, actor=OP)
    return u, note


def organic(rt: Runtime, author: int, n: int = 12) -> None:
    for i in range(n):
        do_create_note(rt, author, title=f"日常分享 口红 {i}", body="随手记", actor=OP)


def settle(client: TestClient) -> None:
    """What the servers' sync threads do, now: pick up notes and plans written behind the API's back."""
    client.app.state.content.sync()  # type: ignore[attr-defined]
    client.app.state.ads.sync()  # type: ignore[attr-defined]


def feed_ads(client: TestClient, consumer: int, n: int = 10) -> list[dict[str, Any]]:
    r = client.get("/v1/feed", params={"consumer_id": consumer, "n": n}, headers=OPERATOR)
    assert r.status_code == 200, r.text
    return [i for i in r.json()["items"] if i["ad"]]


def click(client: TestClient, click_id: str) -> dict[str, Any]:
    r = client.post("/v1/ad-clicks", json={"click_id": click_id}, headers=OPERATOR)
    assert r.status_code == 200, r.text
    return r.json()


def revenue(rt: Runtime) -> int:
    with rt.db.read() as s:
        return int(s.scalar(select(func.coalesce(func.sum(AdClick.charged_fen), 0))) or 0)


def test_an_ad_in_the_feed_is_charged_once_per_consumer_and_click(client: TestClient, rt: Runtime, kob: Kob) -> None:
    store = kob.stores[0]
    fund(rt, kob, store, 100_000)
    unit, note = advertise(rt, store, 200)
    organic(rt, kob.creator)
    settle(client)
    shown = feed_ads(client, 1)
    assert [(i["position"], i["note_id"], i["ad"]["unit_id"]) for i in shown] == [(4, note, unit)]
    first = click(client, shown[0]["ad"]["click_id"])
    assert (first["charged_fen"], first["outcome"]) == (34, "charged")  # alone: the ¥10 CPM reserve per click
    assert click(client, shown[0]["ad"]["click_id"]) == first              # a replay: the same answer
    again = feed_ads(client, 1)
    assert click(client, again[0]["ad"]["click_id"])["outcome"] == "repeat"  # same consumer, creative, day
    other = feed_ads(client, 2)
    assert click(client, other[0]["ad"]["click_id"])["charged_fen"] == 34
    wallet = billing.get_wallet(rt, store, actor=OP)
    assert wallet.balance_fen == 100_000 - 68 == 100_000 - revenue(rt)
    assert_books(rt)


def test_a_charge_whose_transaction_fails_charges_nothing_and_drops_its_lease(
        client: TestClient, rt: Runtime, kob: Kob, monkeypatch: pytest.MonkeyPatch) -> None:
    store = kob.stores[0]
    fund(rt, kob, store, 100_000)
    advertise(rt, store, 200)
    organic(rt, kob.creator)
    settle(client)
    engine = client.app.state.ads  # type: ignore[attr-defined]
    shown = feed_ads(client, 1)

    def lost(*_: object) -> None:
        raise ConnectionError("the database went away")

    with monkeypatch.context() as m:
        m.setattr("zhongcao.ads.engine.enqueue", lost)  # after the lease commit, inside the same transaction
        with pytest.raises(ConnectionError):
            engine.click(shown[0]["ad"]["click_id"])
    assert revenue(rt) == 0
    assert 1 not in engine.purse.held  # its in-memory spend no longer matches the database: dropped
    assert click(client, shown[0]["ad"]["click_id"])["outcome"] == "charged"  # on a fresh lease
    assert billing.get_wallet(rt, store, actor=OP).balance_fen == 100_000 - revenue(rt)
    assert_books(rt)


def test_no_money_no_ad_and_a_forged_click_changes_nothing(client: TestClient, rt: Runtime, kob: Kob) -> None:
    advertise(rt, kob.stores[1], 200)  # a store with an empty wallet
    organic(rt, kob.creator)
    settle(client)
    assert feed_ads(client, 1) == []
    forged = client.post("/v1/ad-clicks", json={"click_id": "eyJhIjoxfQ.AAAAAAAAAAAAAAAAAAAAAA"}, headers=OPERATOR)
    assert (forged.status_code, forged.json()["code"]) == (422, "invalid_click_id")
    assert revenue(rt) == 0


def test_a_daily_budget_is_never_exceeded(client: TestClient, rt: Runtime, kob: Kob) -> None:
    store, rival = kob.stores[0], kob.stores[1]
    fund(rt, kob, store, 1_000_000)
    fund(rt, kob, rival, 1_000_000)
    advertise(rt, store, 3_000, daily_budget_fen=10_000)
    advertise(rt, rival, 2_900, title="口红试色")
    organic(rt, kob.creator)
    settle(client)
    charged = []
    for consumer in range(1, 12):
        top = feed_ads(client, consumer)
        if top:
            charged.append(click(client, top[0]["ad"]["click_id"])["charged_fen"])
        settle(client)
    with rt.db.read() as s:
        spent = s.scalar(select(func.sum(AdClick.charged_fen)).where(AdClick.campaign_id == 1))
    # Spend stops once what is left of the day's budget cannot pay the campaign's dearest click (3,000).
    assert spent is not None
    assert 10_000 - 3_000 < spent <= 10_000
    assert revenue(rt) == sum(charged)
    assert_books(rt)


def test_a_day_long_lease_ends_at_midnight_and_each_day_spends_its_own_budget(rt: Runtime, kob: Kob) -> None:
    """The simulator's leases live a day: one taken in the evening must not carry its rest past midnight on top
    of the new day's budget, and is not renewed early for an hour that ends the day anyway."""
    store, rival = kob.stores[0], kob.stores[1]
    fund(rt, kob, store, 1_000_000)
    fund(rt, kob, rival, 1_000_000)
    advertise(rt, store, 3_000, daily_budget_fen=10_000)
    advertise(rt, rival, 2_900, title="口红试色")  # a price near the bid: three clicks fill the day's budget
    organic(rt, kob.creator)
    rt.clock.advance(rt.day_ends_at() - rt.now() - timedelta(hours=2))
    engine = ads.AdEngine(rt, ContentEngine(rt), purse_spec=ads.PurseSpec(
        ttl_seconds=86_400, clicks_per_lease=200, renew_margin_seconds=3_600))
    engine.content.sync()
    engine.sync()
    first = engine.purse.held[1]
    assert (first.amount_fen, first.expires_at) == (10_000, rt.day_ends_at())
    rt.clock.advance(timedelta(minutes=90))  # inside the renewal margin, but the day ends with the lease
    engine.sync()
    assert engine.purse.held[1].lease_id == first.lease_id

    def click_through(consumers: range) -> None:
        unknown = np.full(len(consumers), -1)
        served = engine.feed_ads(ads.Viewers(np.array(consumers, dtype=np.int64), unknown, unknown, unknown,
                                             [None] * len(consumers)), 10)
        engine.click_batch([served.token(i) for i in range(len(served.unit_id))])
        engine.sync()

    click_through(range(1, 3))
    rt.clock.advance(timedelta(hours=1))  # past midnight: yesterday's lease has lapsed
    engine.sync()
    assert engine.purse.held[1].lease_id != first.lease_id
    for start in range(3, 40, 4):
        click_through(range(start, start + 4))
    engine.close()
    with rt.db.read() as s:
        by_day = dict(s.execute(select(AdClick.day, func.sum(AdClick.charged_fen)).where(AdClick.campaign_id == 1)
                                .group_by(AdClick.day)).all())
    assert len(by_day) == 2
    assert min(by_day.values()) > 0
    assert 10_000 - 3_000 < max(by_day.values()) <= 10_000  # the new day spent up to its budget, no more
    assert_books(rt)


def test_dayparts_count_in_the_platforms_budget_day(client: TestClient, rt: Runtime, kob: Kob) -> None:
    """A platform set to UTC budget days serves an hour-0 daypart at 00:30 UTC, not at Beijing's midnight:
    pacing, dayparts and frequency caps keep the day the budgets keep."""
    rt.settings.budget_day_utc_offset_hours = 0
    now = rt.now()
    rt.clock.advance(datetime.combine(now.date() + timedelta(days=1), time(0, 30), UTC) - now)
    store = kob.stores[0]
    fund(rt, kob, store, 100_000)
    advertise(rt, store, 200, dayparts=["1" + "0" * 23] * 7)
    organic(rt, kob.creator)
    settle(client)
    assert feed_ads(client, 1) != []
    rt.clock.advance(timedelta(hours=16))  # 16:30 UTC: 00:30 the next day in Beijing, 16:30 here
    settle(client)
    assert feed_ads(client, 2) == []


@pytest.mark.parametrize(("uplift", "holiday", "budget"), [(True, True, 12_000), (True, False, 10_000),
                                                            (False, True, 10_000)])
def test_holiday_uplift_raises_the_budget_on_holidays_only(client: TestClient, rt: Runtime, kob: Kob, uplift: bool,
                                                           holiday: bool, budget: int) -> None:
    rt.settings.holidays = [rt.today()] if holiday else []
    rt.settings.holiday_uplift_pct = 20
    store, rival = kob.stores[0], kob.stores[1]
    fund(rt, kob, store, 1_000_000)
    fund(rt, kob, rival, 1_000_000)
    advertise(rt, store, 1_000, daily_budget_fen=10_000, holiday_uplift=uplift, pacing="accelerated")
    advertise(rt, rival, 990, title="口红试色")  # its bid sets the price: about 1,000 a click
    organic(rt, kob.creator)
    settle(client)
    for consumer in range(1, 100):
        top = feed_ads(client, consumer)
        if top:
            click(client, top[0]["ad"]["click_id"])
        settle(client)
    with rt.db.read() as db:
        spent = db.scalar(select(func.sum(AdClick.charged_fen)).where(AdClick.campaign_id == 1))
    assert spent is not None
    assert budget - 1_000 < spent <= budget  # a click costs at most the 1,000 bid
    reasons = {r["code"]: r for r in client.get("/v1/campaigns/1/delivery", headers=OPERATOR).json()["reasons"]}
    assert reasons["budget_exhausted"]["daily_budget_fen"] == budget
    assert_books(rt)


def test_cpm_impressions_are_charged_through_the_lease_and_their_clicks_are_free(client: TestClient, rt: Runtime,
                                                                                kob: Kob) -> None:
    store = kob.stores[0]
    fund(rt, kob, store, 100_000)
    advertise(rt, store, 5_000, billing_event="impression")  # ¥50 per thousand impressions
    organic(rt, kob.creator)
    settle(client)
    shown = [ad for consumer in range(1, 31) for ad in feed_ads(client, consumer)]
    assert len(shown) == 30
    assert click(client, shown[0]["ad"]["click_id"]) == {"click_id": shown[0]["ad"]["click_id"], "charged_fen": 0,
                                                          "outcome": "cpm"}
    settle(client)  # charges what the impressions owe, in whole fen
    prices = [p for b in tail(rt, rt.now() - timedelta(hours=1)) for k, p in zip(
        b.events.column("kind").to_pylist(), b.events.column("price_fen").to_pylist(), strict=True)
        if k == EventKind.AD_IMPRESSION]
    assert len(prices) == 30
    spent = 100_000 - billing.get_wallet(rt, store, actor=OP).balance_fen
    assert spent == sum(prices) // 1000 > 0  # each price is per thousand: a millifen per impression
    assert revenue(rt) == 0  # no click was charged
    assert_books(rt)


def test_gender_and_age_on_the_request_reach_targeted_units_only(client: TestClient, rt: Runtime, kob: Kob) -> None:
    store = kob.stores[0]
    fund(rt, kob, store, 100_000)
    unit, _ = advertise(rt, store, 200)
    ads.do_update_unit(rt, unit, {"targeting": {"type": "advanced", "genders": ["female"], "ages": ["23-27"]}},
                       actor=OP)
    organic(rt, kob.creator)
    settle(client)

    def sees(consumer: int, **viewer: object) -> bool:
        r = client.get("/v1/feed", params={"consumer_id": consumer, "n": 10, **viewer}, headers=OPERATOR)
        assert r.status_code == 200, r.text
        return any(i["ad"] for i in r.json()["items"])

    assert sees(1, gender="female", age=25)
    assert not sees(2, gender="male", age=25)
    assert not sees(3, gender="female", age=35)
    assert not sees(4)  # unknown: a targeted unit does not serve them
    bad = client.get("/v1/feed", params={"consumer_id": 5, "gender": "other"}, headers=OPERATOR)
    assert (bad.status_code, bad.json()["field"]) == (422, "gender")


@pytest.mark.parametrize(("age", "bucket"), [(None, -1), (17, -1), (18, 0), (22, 0), (23, 1), (27, 1), (28, 2),
                                             (32, 2), (33, 3), (90, 3)])
def test_ages_fall_in_the_platforms_buckets(age: int | None, bucket: int) -> None:
    assert ads.age_bucket(age) == bucket


def test_a_frequency_cap_holds_across_server_processes(rt: Runtime, kob: Kob) -> None:
    store = kob.stores[0]
    fund(rt, kob, store, 100_000)
    advertise(rt, store, 200)
    organic(rt, kob.creator)
    a, b = (ads.AdEngine(rt, ContentEngine(rt), spec=DeliverySpec(frequency_cap=2)) for _ in range(2))
    for engine in (a, b):
        engine.content.sync()
        engine.sync()

    def shown(engine: ads.AdEngine, consumer: int = 1) -> int:
        return sum(1 for i in engine.feed(consumer, 10).items if i.ad)

    assert shown(a) + shown(a) + shown(a) == 2  # capped in the process that served them
    b.sync()  # a's impressions reach b's tail once a flushes them (a's sync does)
    assert shown(b) == 1
    a.sync()
    b.sync()
    assert shown(b) == 0
    assert shown(b, consumer=2) == 1
    a.close()
    b.close()


def test_a_keyword_behaviour_unit_reaches_those_who_searched_the_keyword(client: TestClient, rt: Runtime,
                                                                         kob: Kob) -> None:
    store = kob.stores[0]
    fund(rt, kob, store, 100_000)
    unit, _ = advertise(rt, store, 200)
    ads.do_update_unit(rt, unit, {"targeting": {"type": "advanced", "keyword_behaviour": {
        "keywords": ["口红"], "actions": ["searched"], "days": 7}}}, actor=OP)
    organic(rt, kob.creator)
    settle(client)
    assert feed_ads(client, 1) == []  # no audience computed yet: the unit reaches no one
    r = client.get("/v1/search", params={"q": "口红 色号", "consumer_id": 1}, headers=OPERATOR)
    assert r.status_code == 200
    client.app.state.ingester(everything=True)  # type: ignore[attr-defined]  # stores the search, computes the audience
    settle(client)
    assert [i["ad"]["unit_id"] for i in feed_ads(client, 1)] == [unit]
    assert feed_ads(client, 2) == []  # never searched it


@pytest.mark.parametrize(("keyword_bid", "served"), [(150, True), (5_000, False)])
def test_a_lease_must_cover_a_keywords_own_bid(client: TestClient, rt: Runtime, kob: Kob, keyword_bid: int,
                                               served: bool) -> None:
    store = kob.stores[0]
    fund(rt, kob, store, 3_000)  # enough for a lease behind a 150 fen click, not behind a 5,000 fen one
    c = ads.do_create_campaign(rt, store, SEEDING | {"name": "口红", "placement": "search"}, actor=OP).id
    note = do_create_note(rt, store, title="口红试色", body="显白", category="beauty", actor=OP).id
    u = ads.do_create_unit(rt, c, {"name": "u", "bid_fen": 100, "note_ids": [note],
                                   "keywords": [{"keyword": "口红", "bid_fen": keyword_bid}]}, actor=OP).id
    ads.do_create_creative(rt, u, note, {"kind": "dm"}, actor=OP)
    organic(rt, kob.creator)
    settle(client)
    r = client.get("/v1/search", params={"q": "口红", "consumer_id": 1}, headers=OPERATOR)
    assert any(i["ad"] for i in r.json()["items"]) is served
    short = {r["code"]: r for r in status(client, c)["reasons"]}.get("insufficient_balance")
    assert (short is None) is served
    if short:
        assert short["needed_fen"] == keyword_bid  # the status names what the lease needs


def test_a_search_ad_stands_at_position_three(client: TestClient, rt: Runtime, kob: Kob) -> None:
    store = kob.stores[0]
    fund(rt, kob, store, 100_000)
    unit, _ = advertise(rt, store, 200, placement="search")
    organic(rt, kob.creator)
    settle(client)
    page = client.get("/v1/search", params={"q": "口红", "n": 10, "consumer_id": 5}, headers=OPERATOR).json()
    assert page["ad_positions"] == [3]
    assert [(i["position"], i["ad"]["unit_id"] if i["ad"] else None) for i in page["items"]][:4] == [
        (1, None), (2, None), (3, unit), (4, None)]
    assert page["next_offset"] == 9  # nine organic results used; the next page continues from there
    second = client.get("/v1/search", params={"q": "口红", "n": 10, "page": 2, "offset": page["next_offset"],
                                              "consumer_id": 5}, headers=OPERATOR).json()
    organic_ids = [i["note_id"] for i in page["items"] + second["items"] if not i["ad"]]
    assert len(organic_ids) == len(set(organic_ids))  # nothing shown twice, nothing skipped


def status(client: TestClient, campaign: int) -> dict[str, Any]:
    r = client.get(f"/v1/campaigns/{campaign}/delivery", headers=OPERATOR)
    assert r.status_code == 200, r.text
    return r.json()


def codes(reasons: list[dict[str, Any]]) -> list[str]:
    return [r["code"] for r in reasons]


def test_delivery_status_explains_why_a_campaign_does_not_spend(client: TestClient, rt: Runtime, kob: Kob) -> None:
    store, broke = kob.stores[0], kob.stores[1]
    fund(rt, kob, store, 100_000)
    organic(rt, kob.creator)
    unit, _ = advertise(rt, store, 500)
    campaign = ads.get_unit(rt, unit, actor=OP).campaign_id
    narrow, _ = advertise(rt, store, 500, title="拉萨限定")
    ads.do_update_unit(rt, narrow, {"targeting": {"type": "advanced", "cities": ["拉萨"]}}, actor=OP)
    cheap, _ = advertise(rt, store, 40, title="低价")
    settle(client)
    for consumer in range(1, 100):
        feed_ads(client, consumer)
    healthy = status(client, campaign)
    assert (healthy["serving"], healthy["reasons"], healthy["units"][0]["reasons"]) == (True, [], [])
    narrow_units = status(client, ads.get_unit(rt, narrow, actor=OP).campaign_id)["units"]
    assert codes(narrow_units[0]["reasons"]) == ["targeting_too_narrow"]
    assert narrow_units[0]["reasons"][0]["audience_share"] == 0
    losing = status(client, ads.get_unit(rt, cheap, actor=OP).campaign_id)["units"][0]["reasons"]
    assert codes(losing) == ["bid_below_winning"]
    assert losing[0]["suggested_bid_per_click_fen"] > 40
    assert losing[0]["zh"] == "出价低于竞胜水平"

    ads.do_set_status(rt, "campaign", [campaign], "paused", actor=OP)
    paused = status(client, campaign)
    assert (paused["serving"], codes(paused["reasons"]), codes(paused["units"][0]["reasons"])) == (
        False, ["campaign_paused"], ["paused_up_the_chain"])

    poor, _ = advertise(rt, broke, 500, title="没钱")
    night = ads.do_create_campaign(rt, store, SEEDING | {"name": "夜间", "dayparts": ["0" * 24] * 6 + ["1" * 24]},
                                   actor=OP).id  # Sundays only; the test clock is a Monday
    settle(client)
    assert codes(status(client, ads.get_unit(rt, poor, actor=OP).campaign_id)["reasons"]) == ["insufficient_balance"]
    assert codes(status(client, night)["reasons"]) == ["outside_schedule"]


def test_a_spent_budget_and_an_ended_authorization_are_named(client: TestClient, rt: Runtime, kob: Kob) -> None:
    from zhongcao import accounts

    fund(rt, kob, kob.stores[0], 100_000)
    billing.do_top_up(rt, kob.brand, 100_000, idempotency_key="brand", actor=OP)
    organic(rt, kob.creator)
    fund(rt, kob, kob.stores[2], 100_000)
    unit, _ = advertise(rt, kob.stores[0], 3_000, daily_budget_fen=10_000)
    advertise(rt, kob.stores[2], 2_900, title="对手")  # sets the price of each click near ¥29
    campaign = ads.get_unit(rt, unit, actor=OP).campaign_id
    settle(client)
    for consumer in range(1, 10):
        for item in feed_ads(client, consumer):
            click(client, item["ad"]["click_id"])
        settle(client)
    assert "budget_exhausted" in codes(status(client, campaign)["reasons"])

    brand_campaign = ads.do_create_campaign(rt, kob.brand, SEEDING | {"name": "代投"}, actor=OP).id
    note = do_create_note(rt, kob.stores[1], title="门店笔记", body="到店", actor=OP).id
    substituted = ads.do_create_unit(rt, brand_campaign, {"name": "u", "bid_fen": 500, "note_ids": [note]}, actor=OP)
    ads.do_create_creative(rt, substituted.id, note, {"kind": "dm"}, actor=OP)
    link = next(a for a in accounts.list_authorizations(rt, kob.brand, actor=OP) if a.child_id == kob.stores[1])
    accounts.revoke_authorization(rt, link.id, actor=OP)
    settle(client)
    assert codes(status(client, brand_campaign)["units"][0]["reasons"]) == ["authorization_ended"]


def test_report_fees_equal_the_ledger_to_the_fen(client: TestClient, rt: Runtime, kob: Kob) -> None:
    store = kob.stores[0]
    fund(rt, kob, store, 1_000_000)
    fund(rt, kob, kob.stores[2], 1_000_000)
    unit, _ = advertise(rt, store, 700)
    advertise(rt, kob.stores[2], 650, title="对手")
    organic(rt, kob.creator)
    settle(client)
    for consumer in range(1, 25):
        for item in feed_ads(client, consumer):
            click(client, item["ad"]["click_id"])
    client.app.state.ingester(everything=True)  # type: ignore[attr-defined]  # the outbox in, reports out
    body = client.get("/v1/reports", params={"account_id": store, "level": "unit", "range": "today"},
                      headers=OPERATOR).json()
    (row,) = [r for r in body["rows"] if r["unit_id"] == unit]
    spent = 1_000_000 - billing.get_wallet(rt, store, actor=OP).balance_fen
    assert row["fee_fen"] == spent > 0
    assert row["clicks"] >= row["fee_fen"] // 700  # paid clicks never cost more than the bid
    csv_text = client.get("/v1/reports", params={"account_id": store, "level": "unit", "format": "csv"},
                          headers=OPERATOR).text
    assert csv_text.splitlines()[0].startswith("account_id,campaign_id,unit_id")
    assert f",{spent}," in csv_text


def landing_page_click(client: TestClient, rt: Runtime, kob: Kob) -> tuple[str, int, int, Any]:
    """A store's landing-page ad clicked in a feed; its click id, campaign, unit, and a postback sender."""
    import json

    store = kob.stores[0]
    fund(rt, kob, store, 100_000)
    c = ads.do_create_campaign(rt, store, SEEDING | {"name": "落地页", "optimize_for": "click"}, actor=OP).id
    note = do_create_note(rt, store, title="新品上市", body="到店有礼", actor=OP).id
    u = ads.do_create_unit(rt, c, {"name": "u", "bid_fen": 300, "note_ids": [note]}, actor=OP).id
    ads.do_create_creative(rt, u, note, {"kind": "landing_page", "url": "https://shop.example.com/p/1?from=xhs"},
                           actor=OP)
    organic(rt, kob.creator)
    settle(client)
    (item,) = feed_ads(client, 1)
    click_id = item["ad"]["click_id"]
    assert item["ad"]["link"] == f"https://shop.example.com/p/1?from=xhs&zc_click={click_id}"  # the tracked link
    secret = client.post(f"/v1/accounts/{store}/conversion-secret", headers=OPERATOR).json()["secret"]

    def post(payload: dict[str, Any], signing: str | None = secret) -> Any:
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if signing is not None:
            headers["X-Zhongcao-Signature"] = ads.sign_body(body, signing)
        return client.post("/v1/conversions", content=body, headers=headers)

    return click_id, c, u, post


def test_a_signed_postback_records_a_conversion_once(client: TestClient, rt: Runtime, kob: Kob) -> None:
    click_id, c, u, post = landing_page_click(client, rt, kob)
    order = {"click_id": click_id, "type": "order", "value_fen": 19_900, "external_id": "T-1001"}
    first = post(order)
    assert first.status_code == 201, first.text
    assert (first.json()["campaign_id"], first.json()["unit_id"], first.json()["value_fen"]) == (c, u, 19_900)
    assert post(order).json() == first.json()                              # idempotent by external_id
    changed = post(order | {"value_fen": 1})
    assert (changed.status_code, changed.json()["code"]) == (409, "conversion_conflict")
    for bad in (None, "0" * 64):
        refused = post(order | {"external_id": "T-1002"}, signing=bad)
        assert (refused.status_code, refused.json()["code"]) == (401, "invalid_signature")
    forged = post(order | {"click_id": click_id[:-2] + "AA", "external_id": "T-1003"})
    assert (forged.status_code, forged.json()["code"]) == (422, "invalid_click_id")
    with rt.db.read() as s:
        from zhongcao.ads.models import ConversionRow

        assert s.scalar(select(func.count()).select_from(ConversionRow)) == 1


def test_offsite_tracking_says_what_share_of_orders_came_back(client: TestClient, rt: Runtime, kob: Kob) -> None:
    """Postbacks per platform and budget day, beside the advertiser's own totals: the rest never came back."""
    click_id, _, _, post = landing_page_click(client, rt, kob)
    assert post({"click_id": click_id, "type": "order", "value_fen": 19_900, "external_id": "T-1"}).status_code == 201
    store = kob.stores[0]
    for i, (platform, value) in enumerate((("jd", 5_000), ("jd", 7_000), ("tmall", 3_000))):
        r = post({"click_id": click_id, "type": "order", "value_fen": value, "external_id": f"P-{i}",
                  "platform": platform})
        assert (r.status_code, r.json()["platform"]) == (201, platform)
    bad = post({"click_id": click_id, "type": "order", "value_fen": 1, "external_id": "P-9", "platform": "ebay"})
    assert (bad.status_code, bad.json()["field"]) == (422, "platform")
    today = rt.today().isoformat()
    headers = key(rt, store)
    reported = client.put(f"/v1/accounts/{store}/offsite-totals", json={"day": today, "platform": "jd", "orders": 4,
                                                                      "gmv_fen": 20_000}, headers=headers)
    assert reported.status_code == 200, reported.text
    assert (reported.json()["tracked_share"], reported.json()["tracked_gmv_share"]) == (0.5, 0.6)
    tomorrow = (rt.today() + timedelta(days=1)).isoformat()
    early = client.put(f"/v1/accounts/{store}/offsite-totals", json={"day": tomorrow, "platform": "jd", "orders": 1,
                                                                   "gmv_fen": 1}, headers=headers)
    assert (early.status_code, early.json()["field"]) == (422, "day")
    rows = client.get(f"/v1/accounts/{store}/offsite-tracking", params={"range": "today"}, headers=headers).json()
    assert [(r["platform"], r["postback_orders"], r["postback_gmv_fen"], r["reported_orders"], r["tracked_share"])
            for r in rows["rows"]] == [("jd", 2, 12_000, 4, 0.5), ("other", 1, 19_900, None, None),
                                       ("tmall", 1, 3_000, None, None)]
    sibling = client.get(f"/v1/accounts/{store}/offsite-tracking", headers=key(rt, kob.stores[1]))
    assert (sibling.status_code, sibling.json()["code"]) == (404, "account_not_found")



def test_a_batch_of_feed_ads_and_clicks_is_sold_and_charged_as_single_ones(client: TestClient, rt: Runtime,
                                                                          kob: Kob) -> None:
    """The simulator's path: ads for many pages in one auction call, and their clicks charged in one
    transaction with the single click's rules (replays answered once, a repeat click free)."""
    store = kob.stores[0]
    fund(rt, kob, store, 100_000)
    advertise(rt, store, 200)
    organic(rt, kob.creator)
    settle(client)
    engine: ads.AdEngine = client.app.state.ads  # type: ignore[attr-defined]
    consumers = np.arange(1, 41, dtype=np.int64)
    unknown = np.full(40, -1)
    served = engine.feed_ads(ads.Viewers(consumers, unknown, unknown, unknown, [None] * 40), 10)
    assert len(served.unit_id) == 40  # one ad slot in a 10-item page, each sold
    assert set(served.consumer.tolist()) == set(consumers.tolist())
    tokens = [served.token(i) for i in range(40)]
    again = replace(tokens[0], impression_id=tokens[0].impression_id + 10**6)  # the same consumer and creative
    results = engine.click_batch([*tokens, tokens[0], again])
    assert [r.outcome for r in results[:40]] == ["charged"] * 40
    assert results[40] == results[0]  # a replay gets the first answer
    assert (results[41].outcome, results[41].charged_fen) == ("repeat", 0)
    assert results[0].click_id == client.post("/v1/ad-clicks", json={"click_id": results[0].click_id},
                                              headers=OPERATOR).json()["click_id"]
    charged = sum(r.charged_fen for r in results[:40])
    assert charged == sum(int(p) for p in served.price_fen) == revenue(rt)
    engine.close()
    assert 100_000 - billing.get_wallet(rt, store, actor=OP).balance_fen == charged
    assert_books(rt)


def test_a_batch_sells_a_campaign_no_more_than_its_lease_can_pay(client: TestClient, rt: Runtime, kob: Kob) -> None:
    """A store holding money for a few clicks outbids another: in a batch of 400 pages it wins only the
    slots its lease covers at their expected cost, and the rest go to the other store, not free."""
    small, big = kob.stores[0], kob.stores[1]
    fund(rt, kob, small, 300)  # a lease for about one click at its bid
    fund(rt, kob, big, 100_000)
    dear, _ = advertise(rt, small, 250)
    cheap, _ = advertise(rt, big, 200, title="门店新品到店")
    organic(rt, kob.creator)
    settle(client)
    engine: ads.AdEngine = client.app.state.ads  # type: ignore[attr-defined]
    unknown = np.full(400, -1)
    served = engine.feed_ads(ads.Viewers(np.arange(1, 401, dtype=np.int64), unknown, unknown, unknown,
                                         [None] * 400), 10)
    assert len(served.unit_id) == 400  # every page still has its ad
    won = served.unit_id == dear
    assert 0 < won.sum() < 400
    assert set(served.unit_id[~won].tolist()) == {cheap}
    d = engine.delivery
    assert d is not None
    creative = int(np.flatnonzero(d.book.creative_id == served.creative_id[won][0])[0])
    ctr = float(d.estimates.ctr(np.array([creative]))[0])
    # what its wins are expected to cost fits its lease; one slot more would not have
    assert (served.price_fen[won] * ctr).sum() <= 300 < (served.price_fen[won] * ctr).sum() + 250 * ctr * 2
    engine.close()
