"""Ad reports on hand-built event sets: budget-day boundaries, the one-hour engagement window, and the KOB
rollup; and, end to end, report fees equal to the ledger's spend."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest

from conftest import OP, Kob
from zhongcao import ads
from zhongcao.ads.reports import compute, publish, report
from zhongcao.core import Runtime
from zhongcao.events import EventKind, EventStore, make_batch

SEEDING = {"objective": "seeding", "placement": "feed", "bidding": "manual", "optimize_for": "click"}
DAY = datetime(2026, 3, 2)  # naive UTC, as stored; Beijing's 2026-03-02 runs 03-01 16:00 to 03-02 16:00 UTC


def events(rows: list[dict[str, Any]]) -> Any:
    n = len(rows)
    cols = {k: [r.get(k) for r in rows] for k in {k for r in rows for k in r}}
    return make_batch({"event_id": np.arange(1, n + 1, dtype=np.uint64), **cols})


def ad(kind: EventKind, at: datetime, campaign: int, consumer: int = 1, price: int | None = None,
       note: int = 500, keyword: int | None = None) -> dict[str, Any]:
    return {"ts": at, "kind": kind.value, "consumer_id": consumer, "campaign_id": campaign, "unit_id": 10 * campaign,
            "creative_id": 100 * campaign, "note_id": note, "price_fen": price, "keyword_id": keyword}


def act(kind: EventKind, at: datetime, consumer: int = 1, note: int = 500) -> dict[str, Any]:
    return {"ts": at, "kind": kind.value, "consumer_id": consumer, "note_id": note}


@pytest.fixture
def campaigns(rt: Runtime, kob: Kob) -> dict[str, int]:
    return {who: ads.do_create_campaign(rt, account, SEEDING | {"name": who}, actor=OP).id
            for who, account in (("store", kob.stores[0]), ("brand", kob.brand), ("sibling", kob.other_store))}


def load(rt: Runtime, rows: list[dict[str, Any]]) -> None:
    with EventStore() as store:
        store.write(events(rows))
        day = DAY.date()
        publish(rt, compute(store, day - timedelta(days=1), day + timedelta(days=1), 8), day - timedelta(days=1),
                day + timedelta(days=1))


def test_budget_days_are_beijing_days(rt: Runtime, kob: Kob, campaigns: dict[str, int]) -> None:
    c = campaigns["store"]
    edge = DAY - timedelta(hours=8)  # Beijing midnight of 03-02
    load(rt, [ad(EventKind.AD_IMPRESSION, edge - timedelta(seconds=1), c),   # 03-01 23:59:59 Beijing
              ad(EventKind.AD_IMPRESSION, edge, c),                          # 03-02 00:00:00
              ad(EventKind.AD_IMPRESSION, edge + timedelta(hours=5), c),
              ad(EventKind.AD_CLICK, edge + timedelta(hours=5), c),
              ad(EventKind.AD_CHARGE, edge + timedelta(hours=5), c, price=120)])
    rows = report(rt, kob.stores[0], level="campaign", range_="2026-03-01..2026-03-02", by_day=True, actor=OP)
    assert [(str(r.day), r.impressions, r.clicks, r.fee_fen) for r in rows] == [
        ("2026-03-01", 1, 0, 0), ("2026-03-02", 2, 1, 120)]
    day2 = rows[1]
    assert (day2.ctr, day2.acp, day2.cpm) == (0.5, 120.0, 60_000.0)


def test_engagement_counts_within_an_hour_of_the_click_once(rt: Runtime, kob: Kob, campaigns: dict[str, int]) -> None:
    c = campaigns["store"]
    click = DAY + timedelta(hours=1)
    load(rt, [ad(EventKind.AD_CLICK, click, c), ad(EventKind.AD_CLICK, click + timedelta(minutes=10), c),
              act(EventKind.LIKE, click + timedelta(minutes=59)),        # in the window (of both clicks): once
              act(EventKind.COMMENT, click + timedelta(minutes=69, seconds=1)),  # 59 min after the later click
              act(EventKind.COLLECT, click + timedelta(minutes=71)),     # past both windows
              act(EventKind.FOLLOW, click - timedelta(minutes=1)),       # before any click
              act(EventKind.SHARE, click + timedelta(minutes=5), consumer=2),  # someone who did not click
              act(EventKind.SHARE, click + timedelta(minutes=5), note=999)])   # another note
    (row,) = report(rt, kob.stores[0], level="campaign", range_="2026-03-02..2026-03-02", actor=OP)
    assert (row.likes, row.comments, row.collects, row.follows, row.shares, row.interactions) == (1, 1, 0, 0, 0, 2)


def test_a_brand_sees_its_stores_side_by_side_and_a_stranger_never(rt: Runtime, kob: Kob,
                                                                  campaigns: dict[str, int]) -> None:
    at = DAY + timedelta(hours=2)
    load(rt, [ad(EventKind.AD_CHARGE, at, campaigns["store"], price=300),
              ad(EventKind.AD_CHARGE, at, campaigns["brand"], price=500),
              ad(EventKind.AD_CHARGE, at, campaigns["sibling"], price=700)])
    rows = report(rt, kob.brand, level="account", range_="2026-03-02..2026-03-02", include_sub_accounts=True,
                  actor=kob.actor(kob.brand))
    assert [(r.account_id, r.fee_fen) for r in rows] == [(kob.brand, 500), (kob.stores[0], 300)]
    alone = report(rt, kob.brand, level="account", range_="2026-03-02..2026-03-02", actor=kob.actor(kob.brand))
    assert [(r.account_id, r.fee_fen) for r in alone] == [(kob.brand, 500)]


def conv(kind: EventKind, at: datetime, value: int | None = None, consumer: int = 1, note: int = 500) -> dict[str, Any]:
    return {"ts": at, "kind": kind.value, "consumer_id": consumer, "note_id": note, "value_fen": value}


@pytest.mark.parametrize(("kind", "window", "count"), [
    (EventKind.LIVE_VIEW, timedelta(hours=24), "live_entries"),
    (EventKind.DM, timedelta(hours=24), "dms"),
    (EventKind.SHOP_VISIT, timedelta(days=7), "shop_visits"),
    (EventKind.ADD_TO_CART, timedelta(days=7), "add_to_carts"),
    (EventKind.LEAD, timedelta(days=7), "leads"),
    (EventKind.VALID_LEAD, timedelta(days=7), "valid_leads"),
    (EventKind.ORDER_PAID, timedelta(days=7), "paid_orders"),
    (EventKind.LIVE_ORDER, timedelta(hours=24), "live_orders"),
    (EventKind.STORE_VISIT, timedelta(days=7), "store_visits"),
])
def test_each_result_counts_up_to_the_end_of_its_window_after_the_click(
        rt: Runtime, kob: Kob, campaigns: dict[str, int], kind: EventKind, window: timedelta, count: str) -> None:
    c = campaigns["store"]
    click = DAY + timedelta(hours=1)
    load(rt, [ad(EventKind.AD_CLICK, click, c),
              conv(kind, click),                                         # at the click: in
              conv(kind, click + window),                                # the window's last instant: in
              conv(kind, click + window + timedelta(microseconds=1)),    # just past it: out
              conv(kind, click - timedelta(seconds=1)),                  # before the click: out
              conv(kind, click + timedelta(minutes=5), consumer=2),      # someone who did not click: out
              conv(kind, click + timedelta(minutes=5), note=999)])       # another note: out
    (row,) = report(rt, kob.stores[0], level="campaign", range_="2026-03-02..2026-03-02", actor=OP)
    assert getattr(row, count) == 2


def test_shop_orders_count_seven_days_and_offsite_orders_seven_fifteen_and_thirty(
        rt: Runtime, kob: Kob, campaigns: dict[str, int]) -> None:
    c = campaigns["store"]
    click = DAY + timedelta(hours=1)
    load(rt, [ad(EventKind.AD_CLICK, click, c), ad(EventKind.AD_CHARGE, click, c, price=1_000),
              conv(EventKind.ORDER, click + timedelta(days=6), 5_000),
              conv(EventKind.ORDER, click + timedelta(days=8), 7_000),           # past the shop's 7 days
              conv(EventKind.OFFSITE_ORDER, click + timedelta(days=3), 10_000),  # in all three
              conv(EventKind.OFFSITE_ORDER, click + timedelta(days=10), 20_000),  # in 15 and 30
              conv(EventKind.OFFSITE_ORDER, click + timedelta(days=20), 40_000),  # in 30
              conv(EventKind.OFFSITE_ORDER, click + timedelta(days=31), 80_000)])  # in none
    (row,) = report(rt, kob.stores[0], level="campaign", range_="2026-03-02..2026-03-02", actor=OP)
    assert (row.orders, row.gmv_fen, row.roi) == (1, 5_000, 5.0)
    assert (row.offsite_orders_7d, row.offsite_gmv_7d, row.offsite_roi_7d) == (1, 10_000, 10.0)
    assert (row.offsite_orders_15d, row.offsite_gmv_15d, row.offsite_roi_15d) == (2, 30_000, 30.0)
    assert (row.offsite_orders_30d, row.offsite_gmv_30d, row.offsite_roi_30d) == (3, 70_000, 70.0)


def test_paid_and_live_gmv_have_their_own_windows_and_roi(rt: Runtime, kob: Kob, campaigns: dict[str, int]) -> None:
    c = campaigns["store"]
    click = DAY + timedelta(hours=1)
    load(rt, [ad(EventKind.AD_CLICK, click, c), ad(EventKind.AD_CHARGE, click, c, price=2_000),
              conv(EventKind.ORDER_PAID, click + timedelta(days=2), 6_000),
              conv(EventKind.ORDER_PAID, click + timedelta(days=7, seconds=1), 9_000),  # past 7 days
              conv(EventKind.LIVE_ORDER, click + timedelta(hours=23), 4_000),
              conv(EventKind.LIVE_ORDER, click + timedelta(hours=25), 8_000),          # past 24 h
              conv(EventKind.STORE_VISIT, click + timedelta(days=1))])
    (row,) = report(rt, kob.stores[0], level="campaign", range_="2026-03-02..2026-03-02", actor=OP)
    assert (row.paid_orders, row.paid_gmv_fen, row.paid_roi) == (1, 6_000, 3.0)
    assert (row.live_orders, row.live_gmv_fen, row.live_roi) == (1, 4_000, 2.0)
    assert (row.store_visits, row.cost_per_store_visit) == (1, 2_000.0)


def test_a_result_goes_to_the_latest_click_before_it_even_across_campaigns(
        rt: Runtime, kob: Kob, campaigns: dict[str, int]) -> None:
    first, second = campaigns["store"], campaigns["brand"]
    click = DAY + timedelta(hours=1)
    load(rt, [ad(EventKind.AD_CLICK, click, first), ad(EventKind.AD_CLICK, click + timedelta(hours=2), second),
              conv(EventKind.LEAD, click + timedelta(hours=1)),   # before the second click: the first's
              conv(EventKind.LEAD, click + timedelta(hours=3))])  # the second's
    rows = report(rt, kob.brand, level="campaign", range_="2026-03-02..2026-03-02", include_sub_accounts=True,
                  actor=OP)
    assert sorted((r.campaign_id, r.leads) for r in rows) == sorted([(first, 1), (second, 1)])


def test_keyword_reports_give_the_average_position_and_top_shares(rt: Runtime, kob: Kob,
                                                                  campaigns: dict[str, int]) -> None:
    c = campaigns["store"]
    at = DAY + timedelta(hours=1)

    def shown(position: int, kind: EventKind = EventKind.AD_IMPRESSION) -> dict[str, Any]:
        return ad(kind, at, c, keyword=77) | {"position": position}

    load(rt, [shown(1), shown(1), shown(2), shown(4), shown(1, EventKind.AD_CLICK), shown(4, EventKind.AD_CLICK)])
    (row,) = report(rt, kob.stores[0], level="keyword", range_="2026-03-02..2026-03-02", actor=OP)
    assert row.keyword_id == 77
    assert (row.avg_position, row.top1_impression_share, row.top3_impression_share) == (2.0, 0.5, 0.75)
    assert (row.top1_click_share, row.top3_click_share) == (0.5, 0.5)
