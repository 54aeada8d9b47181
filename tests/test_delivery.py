"""Delivery on a book compiled from real plans in State: who enters the auction, who wins, what a click costs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pytest

from conftest import OP, Kob
from zhongcao import accounts, ads
from zhongcao.ads.book import load_book
from zhongcao.ads.delivery import AdRequests, Delivery, DeliverySpec, ad_positions
from zhongcao.ads.targeting import UNKNOWN, Audience
from zhongcao.content import CODE, N_CATEGORIES, do_create_note
from zhongcao.core import Runtime

SEEDING = {"objective": "seeding", "placement": "feed", "bidding": "manual", "optimize_for": "click"}


def campaign(rt: Runtime, account: int, name: str, **change: Any) -> int:
    return ads.do_create_campaign(rt, account, SEEDING | {"name": name} | change, actor=OP).id


def unit(rt: Runtime, campaign_id: int, author: int, bid: int | None, **change: Any) -> int:
    note = do_create_note(rt, author, title="秋冬口红色号推荐", body="显白", category="beauty", actor=OP).id
    u = ads.do_create_unit(rt, campaign_id, {"name": f"u{bid}", "bid_fen": bid, "note_ids": [note]} | change,
                           actor=OP)
    ads.do_create_creative(rt, u.id, note, {"kind": "dm"}, actor=OP)
    return u.id


def people(n: int, female: bool = False) -> Audience:
    a = Audience.unknown(n)
    gender = np.full(n, 1 if female else UNKNOWN)
    return Audience(gender, a.age, a.device, a.city, a.interests)


def feed(consumers: list[int], slots: int = 1, audience: Audience | None = None) -> AdRequests:
    n = len(consumers)
    return AdRequests(np.array(consumers), audience or people(n), np.zeros(n, dtype=bool), [""] * n,
                      np.full(n, slots))


def search(consumers: list[int], query: str, slots: int = 2) -> AdRequests:
    n = len(consumers)
    return AdRequests(np.array(consumers), people(n), np.ones(n, dtype=bool), [query] * n, np.full(n, slots))


def engine(rt: Runtime, **spec: Any) -> Delivery:
    return Delivery(load_book(rt), DeliverySpec(**spec))


def run(d: Delivery, rt: Runtime, req: AdRequests, seed: int = 1, funded: np.ndarray | None = None) -> list[tuple]:
    out = d.decide(req, rt.now().timestamp(), np.ones(len(d.book.campaign_id), dtype=bool) if funded is None
                   else funded, np.random.default_rng(seed))
    return [(int(r), int(k), int(d.book.unit_id[u]), int(p)) for r, k, u, p in
            zip(out.request, out.rank, out.unit, out.price_click_fen, strict=True)]


def test_gsp_in_the_feed_prices_each_winner_at_the_next_bid(rt: Runtime, kob: Kob) -> None:
    store = kob.stores[0]
    c = campaign(rt, store, "feed")
    a, b, low = unit(rt, c, store, 300), unit(rt, c, store, 200), unit(rt, c, store, 100)
    d = engine(rt)
    # Equal predicted rates (priors) and quality: eCPM is the bid × 30, so prices are the next bids.
    assert run(d, rt, feed([1], slots=1)) == [(0, 0, a, 200)]
    assert run(d, rt, feed([2], slots=3)) == [(0, 0, a, 200), (0, 1, b, 100), (0, 2, low, 34)]  # reserve: ¥10 CPM
    assert run(d, rt, feed([3, 4], slots=2)) == [(0, 0, a, 200), (0, 1, b, 100), (1, 0, a, 200), (1, 1, b, 100)]


def test_the_reserve_keeps_out_a_bid_too_low_to_pay_it(rt: Runtime, kob: Kob) -> None:
    c = campaign(rt, kob.stores[0], "cheap")
    unit(rt, c, kob.stores[0], 30)  # 30 fen × 3% × 1000 = 900 fen eCPM, under the ¥10 reserve
    assert run(engine(rt), rt, feed([1])) == []


def test_targeting_frequency_money_and_schedule_decide_who_enters(rt: Runtime, kob: Kob) -> None:
    store = kob.stores[0]
    c = campaign(rt, store, "women")
    women = unit(rt, c, store, 300, targeting={"type": "advanced", "genders": ["female"]})
    everyone = unit(rt, c, store, 100)
    d = engine(rt, frequency_cap=2)
    assert [w[2] for w in run(d, rt, feed([1], audience=people(1, female=True)))] == [women]
    assert [w[2] for w in run(d, rt, feed([2]))] == [everyone]  # gender unknown: the targeted unit stays out
    assert [w[2] for w in run(d, rt, feed([1], audience=people(1, female=True)))] == [women]
    assert [w[2] for w in run(d, rt, feed([1], audience=people(1, female=True)))] == [everyone]  # capped at 2
    assert run(d, rt, feed([5]), funded=np.zeros(1, dtype=bool)) == []  # no lease, no ads
    later = campaign(rt, store, "next month", start_date=str(rt.today() + timedelta(days=30)))
    unit(rt, later, store, 900)
    assert [w[2] for w in run(engine(rt), rt, feed([6]))] == [everyone]  # not started yet


def test_search_ads_follow_keywords_their_bids_and_quick_cast(rt: Runtime, kob: Kob) -> None:
    store = kob.stores[0]
    s = campaign(rt, store, "search", placement="search")
    kw = unit(rt, s, store, 100, keywords=[{"keyword": "口红", "bid_fen": 250}, {"keyword": "面膜"}],
              negative_keywords=["平替"])
    quick = campaign(rt, store, "quick", quick_cast=True, quick_cast_coefficient=1.5)
    qc = unit(rt, quick, store, 120, keywords=[{"keyword": "口红", "match": "smart"}])
    feed_only = campaign(rt, store, "feed only")
    unit(rt, feed_only, store, 900)
    d = engine(rt)
    # 口红: keyword bid 250 against quick-cast 120 × 1.5 = 180; the feed-only unit never enters search.
    assert run(d, rt, search([1], "口红推荐")) == [(0, 0, kw, 180), (0, 1, qc, 34)]
    assert run(d, rt, search([2], "面膜")) == [(0, 0, kw, 34)]        # the unit's own bid, alone: the reserve
    assert [w[2] for w in run(d, rt, search([3], "口红平替"))] == [qc]  # the negative keyword blocks the unit
    assert run(d, rt, search([4], "帐篷")) == []


def test_a_search_walks_its_triggered_units_best_first_past_those_its_consumer_may_not_see(rt: Runtime,
                                                                                           kob: Kob) -> None:
    """Twelve units bid on 口红, the nine dearest for women only: an unknown-gender searcher's auction goes
    past the first windows of the list to the three left, each priced at the next one's bid; a woman's is
    the top of the list. A request's walk stops at its slots and one more, which prices the last slot."""
    store = kob.stores[0]
    c = campaign(rt, store, "search", placement="search")
    bids = list(range(300, 180, -10))
    women_only = {"type": "advanced", "genders": ["female"]}
    units = [unit(rt, c, store, bid, keywords=[{"keyword": "口红"}], targeting=women_only if k < 9 else None)
             for k, bid in enumerate(bids)]
    d = engine(rt)
    women = AdRequests(np.array([1, 2]), people(2, female=True), np.ones(2, dtype=bool), ["口红"] * 2,
                       np.array([2, 1]))
    assert run(d, rt, women) == [(0, 0, units[0], 290), (0, 1, units[1], 280), (1, 0, units[0], 290)]
    assert run(d, rt, search([3, 4], "口红", slots=2)) == [
        (0, 0, units[9], 200), (0, 1, units[10], 190), (1, 0, units[9], 200), (1, 1, units[10], 190)]
    assert run(d, rt, search([5], "口红", slots=3))[-1] == (0, 2, units[11], 34)  # the last: only the reserve


def test_substituted_units_leave_the_book_when_the_authorization_ends(rt: Runtime, kob: Kob) -> None:
    c = campaign(rt, kob.brand, "代投")
    substituted = unit(rt, c, kob.stores[0], 300)
    assert load_book(rt).unit_id.tolist() == [substituted]
    link = next(a for a in accounts.list_authorizations(rt, kob.brand, actor=OP) if a.child_id == kob.stores[0])
    accounts.revoke_authorization(rt, link.id, actor=OP)
    assert load_book(rt).unit_id.tolist() == []


def test_paused_plans_and_restricted_notes_leave_the_book(rt: Runtime, kob: Kob) -> None:
    store = kob.stores[0]
    c = campaign(rt, store, "c")
    u1, u2 = unit(rt, c, store, 300), unit(rt, c, store, 200)
    ads.do_set_status(rt, "unit", [u1], "paused", actor=OP)
    assert load_book(rt).unit_id.tolist() == [u2]
    ads.do_set_status(rt, "campaign", [c], "paused", actor=OP)
    assert load_book(rt).unit_id.tolist() == []


def test_the_same_seed_gives_the_same_decisions(rt: Runtime, kob: Kob) -> None:
    store = kob.stores[0]
    c = campaign(rt, store, "c", daily_budget_fen=10_000)
    for bid in (300, 250, 200, 150):
        unit(rt, c, store, bid)
    runs = [run(engine(rt), rt, feed(list(range(50)), slots=2), seed=9) for _ in range(2)]
    assert runs[0] == runs[1]


@pytest.mark.parametrize(("n", "first", "every", "page", "positions"), [
    (10, 4, 10, 1, [4]), (30, 4, 10, 1, [4, 14, 24]), (10, 3, 10, 2, [3]), (20, 3, 10, 1, [3, 13]),
])
def test_ad_positions(n: int, first: int, every: int, page: int, positions: list[int]) -> None:
    assert ad_positions(n, first, every, page) == positions


def test_interest_targeting_uses_the_consumers_interests(rt: Runtime, kob: Kob) -> None:
    store = kob.stores[0]
    c = campaign(rt, store, "c")
    beauty = unit(rt, c, store, 300, targeting={"type": "advanced", "interests": ["beauty"]})
    interests = np.zeros((2, N_CATEGORIES), dtype=bool)
    interests[0, CODE["beauty"]] = True
    a = Audience.unknown(2)
    who = Audience(a.gender, a.age, a.device, a.city, interests)
    assert run(engine(rt), rt, feed([1, 2], audience=who)) == [(0, 0, beauty, 34)]
