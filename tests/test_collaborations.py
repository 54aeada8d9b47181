"""Creator collaborations: the whole lifecycle with its money, every state against every action, escrow
conservation, deadlines, and the refusals that change nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from conftest import OP, Kob, assert_books, certified
from zhongcao import billing, commerce, content, market
from zhongcao.accounts import Actor
from zhongcao.core import Runtime, ZhongcaoError
from zhongcao.events import EventIds
from zhongcao.market.collaborations import FUND_WINDOW, REPLY_WINDOW, STEPS

FEE = 100_000  # ¥1,000 a note


def refusal(action: Any, *args: Any, **kwargs: Any) -> ZhongcaoError:
    with pytest.raises(ZhongcaoError) as refused:
        action(*args, **kwargs)
    return refused.value


def funded_brand(rt: Runtime, kob: Kob, amount: int = 10_000_000) -> None:
    billing.do_top_up(rt, kob.brand, amount, idempotency_key=f"top-{amount}-{rt.now().isoformat()}", actor=OP)


def brief(rt: Runtime, kob: Kob, **over: Any) -> int:
    now = rt.now()
    spec = {"title": "面霜种草 Cream seeding", "category": "skincare", "format": "image", "budget_fen": 1_000_000,
            "contract": "fixed", "sample_required": True, "max_revisions": 1, "publish_from": now.isoformat(),
            "publish_to": (now + timedelta(days=30)).isoformat(), "evaluation_days": 7, **over}
    return market.do_create_brief(rt, kob.brand, spec, actor=kob.actor(kob.brand)).id


def wallets(rt: Runtime, kob: Kob) -> tuple[int, int, int]:
    with rt.db.read() as s:
        fees = s.scalar(billing.models.Wallet.__table__.select().with_only_columns(  # type: ignore[attr-defined]
            billing.models.Wallet.balance_fen).where(billing.models.Wallet.system_key == billing.FEES)) or 0
    return (billing.get_wallet(rt, kob.brand, actor=OP).balance_fen,
            billing.get_wallet(rt, kob.creator, actor=OP).balance_fen, int(fees))


def act(rt: Runtime, kob: Kob, cid: int, action: str, side: str | None = None) -> market.CollaborationView:
    """Take ``action`` as the first side the table allows (or ``side``), with valid parameters."""
    sides = STEPS[action].sides
    who = side or sides[0]
    actor = {"brand": kob.actor(kob.brand), "creator": kob.actor(kob.creator), "platform": Actor.system()}[who]
    params: dict[str, Any] = {"quote": {"quote_fen": FEE},
                              "submit_draft": {"title": "修护面霜一周实测", "body": "真实体验"},
                              "request_changes": {"feedback": "多拍几张质地图"}, "rate": {"rating": 5}}.get(action, {})
    return market.ACT[action](rt, cid, actor=actor, **params)


PATHS: dict[str, list[str]] = {
    "invited": [],
    "quoted": ["quote"],
    "accepted": ["quote", "accept"],
    "funded": ["quote", "accept", "fund"],
    "sample_shipped": ["quote", "accept", "fund", "ship_sample"],
    "draft_submitted": ["quote", "accept", "fund", "ship_sample", "submit_draft"],
    "changes_requested": ["quote", "accept", "fund", "ship_sample", "submit_draft", "request_changes"],
    "approved": ["quote", "accept", "fund", "ship_sample", "submit_draft", "approve"],
    "published": ["quote", "accept", "fund", "ship_sample", "submit_draft", "approve", "publish"],
    "settled": ["quote", "accept", "fund", "ship_sample", "submit_draft", "approve", "publish", "settle"],
    "declined": ["decline"],
    "cancelled": ["cancel"],
    "expired": ["expire"],
}


def reach(rt: Runtime, kob: Kob, state: str, **brief_over: Any) -> int:
    """A fresh deal in ``state``; the clock moves past a deadline where the path needs it."""
    if state == "applied":
        return market.do_apply(rt, brief(rt, kob, **brief_over), kob.creator, FEE, actor=kob.actor(kob.creator)).id
    cid = market.do_invite(rt, brief(rt, kob, **brief_over), kob.creator, actor=kob.actor(kob.brand)).id
    for action in PATHS[state]:
        if action in ("settle", "expire"):
            due = market.get_collaboration(rt, cid, actor=OP).deadline_at
            assert due is not None
            rt.clock.advance(due - rt.now())  # type: ignore[attr-defined]
        act(rt, kob, cid, action)
    assert market.get_collaboration(rt, cid, actor=OP).state == state
    return cid


def test_a_fixed_fee_deal_runs_end_to_end_and_conserves_money(rt: Runtime, kob: Kob) -> None:
    funded_brand(rt, kob)
    start = wallets(rt, kob)
    cid = reach(rt, kob, "draft_submitted")
    view = act(rt, kob, cid, "request_changes")
    assert (view.state, view.revisions, view.feedback) == ("changes_requested", 1, "多拍几张质地图")
    act(rt, kob, cid, "submit_draft")
    refused = refusal(act, rt, kob, cid, "request_changes")
    assert (refused.code, refused.status) == ("revision_limit_reached", 409)
    assert refused.extra == {"state": "draft_submitted"}
    act(rt, kob, cid, "approve")
    view = act(rt, kob, cid, "publish")
    assert view.state == "published"
    assert view.note_id is not None
    note = content.get_note(rt, view.note_id, actor=OP)
    assert note.sponsored
    assert note.collaboration_id == cid
    assert view.escrow_fen == FEE + FEE // 10
    assert wallets(rt, kob)[0] == start[0] - FEE - FEE // 10
    early = refusal(act, rt, kob, cid, "settle")
    assert early.code == "evaluation_not_over"
    rt.clock.advance(timedelta(days=7))  # type: ignore[attr-defined]
    assert market.sweep(rt) == {"approved": 0, "settled": 1, "expired": 0}
    done = market.get_collaboration(rt, cid, actor=OP)
    assert done.state == "settled"
    assert done.escrow_fen == 0
    assert done.settlement is not None
    assert done.settlement["payout_fen"] == FEE
    brand, creator, fees = wallets(rt, kob)
    assert (start[0] - brand, creator - start[1], fees - start[2]) == (FEE + FEE // 10, FEE, FEE // 10)
    twice = refusal(act, rt, kob, cid, "settle")
    assert (twice.code, twice.extra) == ("invalid_collaboration_transition", {"state": "settled"})
    assert wallets(rt, kob) == (brand, creator, fees)
    act(rt, kob, cid, "rate", "brand")
    act(rt, kob, cid, "rate", "creator")
    assert refusal(act, rt, kob, cid, "rate", "brand").code == "already_rated"
    rated = market.get_collaboration(rt, cid, actor=OP)
    assert (rated.brand_rating, rated.creator_rating) == (5, 5)
    market.do_set_creator_profiles(rt, [market.CreatorProfile(kob.creator, "skincare", "上海")], actor=OP)
    market.refresh(rt)
    credit = market.CreatorIndex.load(rt).stats[0]
    assert (credit["deals_settled"], credit["rating"], credit["sponsored_notes"]) == (1, 5.0, 1)
    assert_books(rt)


def test_cps_pays_commission_on_the_notes_last_touch_orders_up_to_the_cap(rt: Runtime, kob: Kob) -> None:
    funded_brand(rt, kob)
    rt.settings.shop_min_followers = 0
    commerce.do_open_shop(rt, kob.brand, followers=0, actor=OP)
    product = commerce.do_create_product(rt, kob.brand, name="面霜", price_fen=20_000, category="skincare",
                                         stock=100, actor=OP).id
    cid = reach(rt, kob, "published", contract="cps", cps_rate_bp=2_000, product_id=product)
    note = market.get_collaboration(rt, cid, actor=OP).note_id
    assert note is not None
    ids = EventIds(rt.clock)
    for consumer in (1, 2, 3):
        source = commerce.resolve(rt, "note", note, consumer, None)
        order = commerce.do_create_order(rt, ids, consumer, [(product, 1)], source, actor=OP)
        commerce.do_order_transition(rt, ids, order.id, "pay", actor=OP)
    before = wallets(rt, kob)
    rt.clock.advance(timedelta(days=7))  # type: ignore[attr-defined]
    done = act(rt, kob, cid, "settle")
    commission = 3 * 20_000 * 2_000 // 10_000  # 20% of ¥600
    assert done.settlement == {"txn_id": done.settlement["txn_id"], "payout_fen": commission,  # type: ignore[index]
                               "platform_fee_fen": commission // 10,
                               "refunded_fen": FEE + FEE // 10 - commission - commission // 10,
                               "orders": 3, "gmv_fen": 60_000}
    after = wallets(rt, kob)
    assert (after[1] - before[1], after[2] - before[2]) == (commission, commission // 10)
    assert_books(rt)


def test_a_product_trial_moves_no_money(rt: Runtime, kob: Kob) -> None:
    funded_brand(rt, kob)
    start = wallets(rt, kob)
    b = brief(rt, kob, contract="trial")
    cid = market.do_invite(rt, b, kob.creator, actor=kob.actor(kob.brand)).id
    bad = refusal(market.do_quote, rt, cid, 500, actor=kob.actor(kob.creator))
    assert (bad.code, bad.field) == ("invalid_quote", "quote_fen")
    market.do_quote(rt, cid, 0, actor=kob.actor(kob.creator))
    for action in ("accept", "fund", "ship_sample", "submit_draft", "approve", "publish"):
        act(rt, kob, cid, action)
    rt.clock.advance(timedelta(days=7))  # type: ignore[attr-defined]
    assert act(rt, kob, cid, "settle").state == "settled"
    assert wallets(rt, kob) == start


@pytest.mark.parametrize("state", [*PATHS, "applied"])
def test_every_action_in_every_state_follows_the_table(rt: Runtime, kob: Kob, state: str) -> None:
    """Allowed where the table says; anywhere else 409 with the current state, and nothing changes."""
    funded_brand(rt, kob)
    for action, step in STEPS.items():
        if action in ("invite", "apply"):
            continue
        cid = reach(rt, kob, state, sample_required=False)
        before = (market.get_collaboration(rt, cid, actor=OP), wallets(rt, kob))
        if action in ("settle", "expire") and before[0].deadline_at is not None:
            rt.clock.advance(before[0].deadline_at - rt.now())  # type: ignore[attr-defined]
        if state in step.sources:
            assert act(rt, kob, cid, action).state == step.target, action
        else:
            refused = refusal(act, rt, kob, cid, action)
            assert (refused.code, refused.status) == ("invalid_collaboration_transition", 409), action
            assert refused.extra == {"state": state}
            assert refused.allowed == market.allowed_actions(state)
            assert (market.get_collaboration(rt, cid, actor=OP), wallets(rt, kob)) == before, action
    assert_books(rt)


def test_a_sample_comes_before_the_draft_when_the_brief_ships_one(rt: Runtime, kob: Kob) -> None:
    funded_brand(rt, kob)
    cid = reach(rt, kob, "funded")
    refused = refusal(act, rt, kob, cid, "submit_draft")
    assert refused.code == "invalid_collaboration_transition"
    assert act(rt, kob, cid, "ship_sample").state == "sample_shipped"


@pytest.mark.parametrize(("state", "side", "creator_gets"), [
    ("funded", "brand", 0), ("sample_shipped", "creator", 0), ("draft_submitted", "brand", FEE * 3 // 10),
    ("approved", "brand", FEE * 3 // 10), ("approved", "creator", 0)])
def test_cancellation_refunds_follow_the_rules(rt: Runtime, kob: Kob, state: str, side: str, creator_gets: int) -> None:
    funded_brand(rt, kob)
    start = wallets(rt, kob)
    cid = reach(rt, kob, state)
    done = act(rt, kob, cid, "cancel", side)
    assert done.state == "cancelled"
    assert done.escrow_fen == 0
    brand, creator, fees = wallets(rt, kob)
    fee = creator_gets // 10
    assert (creator - start[1], fees - start[2], start[0] - brand) == (creator_gets, fee, creator_gets + fee)
    assert_books(rt)


def test_deadlines_expire_approve_and_refund(rt: Runtime, kob: Kob) -> None:
    funded_brand(rt, kob)
    start = wallets(rt, kob)
    invited = market.do_invite(rt, brief(rt, kob), kob.creator, actor=kob.actor(kob.brand)).id
    accepted = reach(rt, kob, "accepted")
    drafted = reach(rt, kob, "draft_submitted")
    assert market.sweep(rt) == {"approved": 0, "settled": 0, "expired": 0}
    early = refusal(market.do_expire, rt, invited, actor=Actor.system())
    assert early.code == "invalid_collaboration_transition"
    rt.clock.advance(max(REPLY_WINDOW, FUND_WINDOW, timedelta(hours=72)) + timedelta(seconds=1))  # type: ignore[attr-defined]
    assert market.sweep(rt) == {"approved": 1, "settled": 0, "expired": 2}
    states = [market.get_collaboration(rt, c, actor=OP).state for c in (invited, accepted, drafted)]
    assert states == ["expired", "expired", "approved"]
    rt.clock.advance(timedelta(days=31))  # type: ignore[attr-defined]
    assert market.sweep(rt)["expired"] == 1  # the approved draft was never published: all back to the brand
    assert wallets(rt, kob) == start
    assert_books(rt)


def test_refusals_name_the_rule_and_change_nothing(rt: Runtime, kob: Kob) -> None:
    funded_brand(rt, kob, 50_000)
    b = brief(rt, kob, budget_fen=150_000)
    cid = market.do_invite(rt, b, kob.creator, actor=kob.actor(kob.brand)).id
    again = refusal(market.do_invite, rt, b, kob.creator, actor=kob.actor(kob.brand))
    assert again.code == "collaboration_exists"
    over = refusal(market.do_quote, rt, cid, 150_001, actor=kob.actor(kob.creator))
    assert (over.code, over.allowed) == ("invalid_quote", "1..150000")
    stranger = refusal(market.do_quote, rt, cid, FEE, actor=kob.actor(kob.other_brand))
    assert stranger.code == "collaboration_not_found"
    wrong_side = refusal(market.do_quote, rt, cid, FEE, actor=kob.actor(kob.brand))
    assert wrong_side.code == "forbidden"
    market.do_quote(rt, cid, FEE, actor=kob.actor(kob.creator))
    market.do_accept(rt, cid, actor=kob.actor(kob.brand))
    before = wallets(rt, kob)
    short = refusal(market.do_fund, rt, cid, actor=kob.actor(kob.brand))
    assert (short.code, short.field) == ("insufficient_funds", "amount_fen")
    assert market.get_collaboration(rt, cid, actor=OP).state == "accepted"
    assert wallets(rt, kob) == before
    for field, value, code in (("budget_fen", 0, "invalid_brief"), ("contract", "barter", "invalid_brief"),
                               ("publish_to", "2020-01-01T00:00:00+00:00", "invalid_brief"),
                               ("cps_rate_bp", 100, "invalid_brief"), ("category", "cars!", "invalid_brief")):
        err = refusal(brief, rt, kob, **{field: value})
        assert (err.code, err.field) == (code, field)
    assert len(market.list_briefs(rt, kob.brand, actor=OP)) == 1


def test_accepting_past_the_brief_budget_is_refused(rt: Runtime, kob: Kob) -> None:
    b = brief(rt, kob, budget_fen=150_000)
    first = market.do_apply(rt, b, kob.creator, FEE, actor=kob.actor(kob.creator)).id
    other = certified(rt, "creator", "达人 Two")
    second = market.do_apply(rt, b, other, FEE, actor=Actor.of_account(other)).id
    market.do_accept(rt, first, actor=kob.actor(kob.brand))
    refused = refusal(market.do_accept, rt, second, actor=kob.actor(kob.brand))
    assert (refused.code, refused.allowed) == ("brief_budget_exceeded", "at most 50000 fen")
    assert market.get_brief(rt, b, actor=OP).committed_fen == FEE


def test_an_escrow_never_pays_out_more_than_it_holds(rt: Runtime, kob: Kob) -> None:
    funded_brand(rt, kob)
    cid = reach(rt, kob, "funded")
    before = wallets(rt, kob)
    with pytest.raises(ZhongcaoError) as refused, rt.db.transaction() as s:
        billing.settle_escrow_in(rt, s, f"collaboration:{cid}", payouts={kob.creator: FEE}, fee_fen=FEE,
                                 refund_to=kob.brand, actor=OP, memo={})
    held = FEE + FEE // 10
    assert (refused.value.code, refused.value.status) == ("escrow_short", 409)
    assert refused.value.allowed == f"at most {held} fen in all"
    assert wallets(rt, kob) == before
    assert market.get_collaboration(rt, cid, actor=OP).escrow_fen == FEE + FEE // 10
    assert_books(rt)
