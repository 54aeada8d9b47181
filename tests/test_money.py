"""Money: top-ups, allocation down the KOB tree, reclaim, refund, revocation, leases and pools."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conftest import OP, Kob, assert_books
from zhongcao import accounts, billing
from zhongcao.core import Conflict, Forbidden, Invalid, NotFound, Runtime, ZhongcaoError


def wallet(rt: Runtime, account_id: int) -> billing.WalletView:
    return billing.get_wallet(rt, account_id, actor=OP)


def snapshot(rt: Runtime, *ids: int) -> list[billing.WalletView]:
    return [wallet(rt, i) for i in ids]


def refused(rt: Runtime, ids: tuple[int, ...], code: str, fn, *args, **kwargs) -> ZhongcaoError:  # type: ignore[no-untyped-def]
    """Assert the action is refused with ``code`` and that no wallet changed."""
    before = snapshot(rt, *ids)
    audit_before = {i: len(accounts.read_audit(rt, i, actor=OP, limit=1000)) for i in ids}
    with pytest.raises(ZhongcaoError) as info:
        fn(*args, **kwargs)
    assert info.value.code == code
    assert snapshot(rt, *ids) == before
    assert {i: len(accounts.read_audit(rt, i, actor=OP, limit=1000)) for i in ids} == audit_before
    assert_books(rt)
    return info.value


@pytest.fixture
def funded(rt: Runtime, kob: Kob) -> Kob:
    billing.do_top_up(rt, kob.brand, 1_000_000, idempotency_key="pay-1", actor=OP)
    billing.do_allocate(rt, kob.brand, kob.stores[0], 300_000, actor=kob.actor(kob.brand))
    return kob


def test_top_up_is_idempotent_per_key(rt: Runtime, kob: Kob) -> None:
    first = billing.do_top_up(rt, kob.brand, 5_000, idempotency_key="k1", actor=OP)
    again = billing.do_top_up(rt, kob.brand, 5_000, idempotency_key="k1", actor=OP)
    assert (first.replayed, again.replayed, again.txn_id) == (False, True, first.txn_id)
    assert wallet(rt, kob.brand).balance_fen == 5_000
    refused(rt, (kob.brand,), "idempotency_key_reused", billing.do_top_up, rt, kob.brand, 6_000,
            idempotency_key="k1", actor=OP)
    assert_books(rt)


def test_allocate_and_reclaim_track_delegated_budget(rt: Runtime, funded: Kob) -> None:
    k = funded
    assert wallet(rt, k.brand).available_fen == 700_000
    store = wallet(rt, k.stores[0])
    assert (store.balance_fen, store.delegated_fen) == (300_000, 300_000)
    billing.do_reclaim(rt, k.brand, k.stores[0], 100_000, actor=k.actor(k.brand))
    assert (wallet(rt, k.stores[0]).balance_fen, wallet(rt, k.brand).balance_fen) == (200_000, 800_000)
    assert_books(rt)


def test_allocation_replay_with_key_moves_money_once(rt: Runtime, funded: Kob) -> None:
    k = funded
    for _ in range(3):
        billing.do_allocate(rt, k.brand, k.stores[1], 1_000, actor=k.actor(k.brand), idempotency_key="a-1")
    assert wallet(rt, k.stores[1]).balance_fen == 1_000


@pytest.mark.parametrize(("case", "code"), [
    ("overdraw", "insufficient_funds"),
    ("not_child", "not_authorized_sub_account"),
    ("grandchild", "not_authorized_sub_account"),
    ("zero", "invalid_amount"),
    ("negative", "invalid_amount"),
    ("float", "invalid_amount"),
])
def test_refused_allocations_change_nothing(rt: Runtime, funded: Kob, case: str, code: str) -> None:
    k = funded
    target, amount = {
        "overdraw": (k.stores[1], 700_001), "not_child": (k.other_store, 10), "grandchild": (k.dist_store, 10),
        "zero": (k.stores[1], 0), "negative": (k.stores[1], -5), "float": (k.stores[1], 1.5),
    }[case]
    refused(rt, (k.brand, k.stores[1], k.other_store, k.dist_store), code, billing.do_allocate, rt, k.brand,
            target, amount, actor=k.actor(k.brand))


def test_reclaim_takes_only_delegated_available_money(rt: Runtime, funded: Kob) -> None:
    k = funded
    billing.do_top_up(rt, k.stores[0], 50_000, idempotency_key="own", actor=OP)  # the store's own money
    billing.do_reserve(rt, k.stores[0], 100_000, 60, actor=k.actor(k.stores[0]))
    err = refused(rt, (k.brand, k.stores[0]), "insufficient_funds", billing.do_reclaim, rt, k.brand, k.stores[0],
                  200_001, actor=k.actor(k.brand))
    assert err.allowed == "at most 200000 fen"
    billing.do_reclaim(rt, k.brand, k.stores[0], 200_000, actor=k.actor(k.brand))
    assert wallet(rt, k.stores[0]).available_fen == 50_000  # its own money stays
    assert_books(rt)


def test_refund_pays_out_own_money_only(rt: Runtime, funded: Kob) -> None:
    k = funded
    billing.do_top_up(rt, k.stores[0], 20_000, idempotency_key="own", actor=OP)
    refused(rt, (k.stores[0],), "insufficient_funds", billing.do_refund, rt, k.stores[0], 20_001, actor=OP)
    refused(rt, (k.stores[0],), "operator_only", billing.do_refund, rt, k.stores[0], 1, actor=k.actor(k.stores[0]))
    billing.do_refund(rt, k.stores[0], 20_000, actor=OP)
    assert wallet(rt, k.stores[0]).balance_fen == 300_000
    assert_books(rt)


def test_revoke_returns_available_delegated_budget_and_later_lease_remainders(rt: Runtime, funded: Kob) -> None:
    k = funded
    store = k.stores[0]
    lease = billing.do_reserve(rt, store, 100_000, 60, actor=k.actor(store))
    billing.do_commit(rt, [billing.LeaseCommit(lease.id, 30_000)], actor=k.actor(store))
    auth = next(a for a in accounts.list_authorizations(rt, store, actor=OP) if a.status == "active")
    result = billing.do_revoke_authorization(rt, auth.id, actor=k.actor(k.brand))
    assert (result.returned_fen, result.pending_return_fen) == (200_000, 70_000)
    assert wallet(rt, k.brand).balance_fen == 900_000
    assert accounts.list_sub_accounts(rt, k.brand, actor=OP)[0].id != store
    # The store's process finishes its lease: its spend stands, the rest goes back to the brand.
    billing.do_release(rt, lease.id, spent_fen=50_000, actor=k.actor(store))
    assert wallet(rt, store) == billing.WalletView(store, 0, 0, 0, 0)
    assert wallet(rt, k.brand).balance_fen == 950_000
    assert_books(rt)


def test_revoking_a_pending_invitation_moves_no_money(rt: Runtime, kob: Kob) -> None:
    from conftest import certified

    new_store = certified(rt, "store", "新店 New store")
    invite = accounts.do_invite(rt, kob.brand, new_store, actor=kob.actor(kob.brand))
    result = billing.do_revoke_authorization(rt, invite.id, actor=kob.actor(kob.brand))
    assert (result.authorization.status, result.returned_fen) == ("revoked", 0)


def test_lease_lifecycle_commit_is_cumulative_and_replayable(rt: Runtime, funded: Kob) -> None:
    k = funded
    store, actor = k.stores[0], k.actor(k.stores[0])
    lease = billing.do_reserve(rt, store, 10_000, 30, actor=actor, holder="server-1")
    assert wallet(rt, store).available_fen == 290_000
    assert billing.do_commit(rt, [billing.LeaseCommit(lease.id, 4_000)], actor=actor).committed_fen == 4_000
    assert billing.do_commit(rt, [billing.LeaseCommit(lease.id, 4_000)], actor=actor).committed_fen == 0
    commits = [e for e in accounts.read_audit(rt, store, actor=OP) if e.action == "lease.commit"]
    assert [(e.actor, e.after) for e in commits] == [(actor.label, {"leases": 1, "committed_fen": 4_000})]
    refused(rt, (store,), "spent_decreased", billing.do_commit, rt, [billing.LeaseCommit(lease.id, 3_000)],
            actor=actor)
    refused(rt, (store,), "lease_overspent", billing.do_commit, rt, [billing.LeaseCommit(lease.id, 10_001)],
            actor=actor)
    billing.do_release(rt, lease.id, actor=actor)
    assert wallet(rt, store) == billing.WalletView(store, 296_000, 0, 296_000, 296_000)
    refused(rt, (store,), "lease_closed", billing.do_commit, rt, [billing.LeaseCommit(lease.id, 5_000)],
            actor=actor)
    assert billing.do_commit(rt, [billing.LeaseCommit(lease.id, 4_000)], actor=actor).committed_fen == 0
    assert_books(rt)


def test_reserve_cannot_exceed_available(rt: Runtime, funded: Kob) -> None:
    k = funded
    billing.do_reserve(rt, k.stores[0], 250_000, 30, actor=k.actor(k.stores[0]))
    err = refused(rt, (k.stores[0],), "insufficient_funds", billing.do_reserve, rt, k.stores[0], 50_001, 30,
                  actor=k.actor(k.stores[0]))
    assert err.field == "amount_fen"
    refused(rt, (k.stores[0],), "invalid_ttl", billing.do_reserve, rt, k.stores[0], 1, 0, actor=k.actor(k.stores[0]))


def test_a_batch_of_asks_takes_what_each_wallet_and_cap_allow(rt: Runtime, funded: Kob) -> None:
    k = funded
    billing.do_allocate(rt, k.brand, k.stores[1], 5_000, actor=k.actor(k.brand))
    cap = billing.BudgetCap("campaign:1", 30_000)
    asks = [billing.LeaseAsk(k.stores[0], 44_000, 220, (cap,)),      # the cap binds: the whole 30,000 of it
            billing.LeaseAsk(k.stores[0], 44_000, 220, (cap,)),      # the same cap, now spent: refused
            billing.LeaseAsk(k.stores[1], 44_000, 220),              # the wallet binds: all 5,000
            billing.LeaseAsk(k.stores[1], 10_000, 220)]              # nothing left in it: refused
    answers = billing.do_reserve_many(rt, asks, 3_600, actor=OP, holder="sim")
    assert [getattr(a, "amount_fen", None) for a in answers] == [30_000, None, 5_000, None]
    assert answers[1] == billing.LeaseRefusal("budget_cap_reached", 0)
    assert answers[3] == billing.LeaseRefusal("insufficient_funds", 0)
    assert billing.cap_used_today(rt, "campaign:1") == 30_000
    assert (wallet(rt, k.stores[0]).available_fen, wallet(rt, k.stores[1]).available_fen) == (270_000, 0)
    assert_books(rt)
    leases = [a for a in answers if isinstance(a, billing.LeaseView)]
    billing.do_commit(rt, [billing.LeaseCommit(leases[0].id, 1_000)], actor=OP)
    closed = billing.do_release_many(rt, [(leases[0].id, 2_500), (leases[1].id, None)], actor=OP)
    assert [(v.state, v.spent_fen) for v in closed] == [("closed", 2_500), ("closed", 0)]
    assert billing.cap_used_today(rt, "campaign:1") == 2_500  # the unspent rest is back in the day's budget
    assert (wallet(rt, k.stores[0]).balance_fen, wallet(rt, k.stores[1]).available_fen) == (297_500, 5_000)
    assert_books(rt)


def test_a_lease_under_a_daily_cap_ends_with_its_budget_day(rt: Runtime, funded: Kob) -> None:
    """Spent after midnight, the rest of yesterday's lease would come on top of today's budget."""
    k = funded
    rt.clock.advance(rt.day_ends_at() - rt.now() - timedelta(hours=2))  # two hours before the budget day ends
    cap = billing.BudgetCap("campaign:1", 30_000)
    capped, free = billing.do_reserve_many(rt, [billing.LeaseAsk(k.stores[0], 10_000, 220, (cap,)),
                                                billing.LeaseAsk(k.stores[0], 10_000, 220)], 86_400, actor=OP)
    assert isinstance(capped, billing.LeaseView)
    assert isinstance(free, billing.LeaseView)
    assert capped.expires_at == rt.day_ends_at()
    assert free.expires_at == rt.now() + timedelta(days=1)  # no daily cap: its whole TTL
    pool_lease = billing.do_reserve(rt, k.stores[0], 1_000, 60, actor=OP, caps=(cap,))
    assert pool_lease.expires_at == rt.now() + timedelta(seconds=60)  # a TTL inside the day stands
    rt.clock.advance(timedelta(hours=2))
    billing.do_commit(rt, [billing.LeaseCommit(capped.id, 4_000)], actor=OP)  # inside the settle grace: counted
    rt.clock.advance(timedelta(seconds=rt.settings.lease_settle_grace_seconds))
    with pytest.raises(Conflict) as info:  # a new day's charges need a lease counted against the new day
        billing.do_commit(rt, [billing.LeaseCommit(capped.id, 5_000)], actor=OP)
    assert info.value.code == "lease_expired"
    assert billing.cap_used_today(rt, "campaign:1") == 0
    assert_books(rt)


def test_refused_batches_change_nothing(rt: Runtime, funded: Kob) -> None:
    k = funded
    store = k.stores[0]
    refused(rt, (store,), "invalid_amount", billing.do_reserve_many, rt,
            [billing.LeaseAsk(store, 1_000, 220), billing.LeaseAsk(store, 100, 220)], 60, actor=OP)
    refused(rt, (store,), "invalid_ttl", billing.do_reserve_many, rt, [billing.LeaseAsk(store, 1_000, 220)], 0,
            actor=OP)
    refused(rt, (store,), "account_not_found", billing.do_reserve_many, rt,  # a sibling cannot see its money
            [billing.LeaseAsk(store, 1_000, 220)], 60, actor=k.actor(k.stores[1]))
    lease = billing.do_reserve(rt, store, 1_000, 60, actor=OP)
    refused(rt, (store,), "lease_not_found", billing.do_release_many, rt, [(lease.id, 500), (lease.id + 99, None)],
            actor=OP)
    assert billing.get_lease(rt, lease.id, actor=OP).state == "open"


def test_expired_leases_settle_at_committed_spend(rt: Runtime, funded: Kob) -> None:
    k = funded
    store, actor = k.stores[0], k.actor(k.stores[0])
    lease = billing.do_reserve(rt, store, 10_000, 30, actor=actor)
    billing.do_commit(rt, [billing.LeaseCommit(lease.id, 2_500)], actor=actor)
    rt.clock.advance(timedelta(seconds=30 + 30))  # past expiry, inside the settle grace
    billing.do_commit(rt, [billing.LeaseCommit(lease.id, 3_000)], actor=actor)
    assert billing.settle_expired_leases(rt) == 0
    rt.clock.advance(timedelta(seconds=rt.settings.lease_settle_grace_seconds))
    refused(rt, (store,), "lease_expired", billing.do_commit, rt, [billing.LeaseCommit(lease.id, 3_500)],
            actor=actor)
    assert billing.settle_expired_leases(rt) == 1
    assert billing.get_lease(rt, lease.id, actor=actor).state == "closed"
    assert wallet(rt, store) == billing.WalletView(store, 297_000, 0, 297_000, 297_000)
    assert_books(rt)


def test_a_batch_commit_is_all_or_nothing(rt: Runtime, funded: Kob) -> None:
    k = funded
    store, actor = k.stores[0], k.actor(k.stores[0])
    a = billing.do_reserve(rt, store, 1_000, 30, actor=actor)
    b = billing.do_reserve(rt, store, 1_000, 30, actor=actor)
    err = refused(rt, (store,), "lease_overspent", billing.do_commit, rt,
                  [billing.LeaseCommit(a.id, 500), billing.LeaseCommit(b.id, 1_001)], actor=actor)
    assert err.field == "commits[1].spent_fen"
    result = billing.do_commit(rt, [billing.LeaseCommit(a.id, 500), billing.LeaseCommit(b.id, 1_000)], actor=actor)
    assert (result.leases, result.committed_fen) == (2, 1_500)
    assert_books(rt)


def test_sibling_cannot_spend_or_commit_anothers_lease(rt: Runtime, funded: Kob) -> None:
    k = funded
    lease = billing.do_reserve(rt, k.stores[0], 1_000, 30, actor=k.actor(k.stores[0]))
    with pytest.raises(NotFound):
        billing.do_commit(rt, [billing.LeaseCommit(lease.id, 10)], actor=k.actor(k.stores[1]))
    with pytest.raises(NotFound):
        billing.do_reserve(rt, k.stores[0], 1, 30, actor=k.actor(k.stores[1]))
    with pytest.raises(NotFound):
        billing.do_release(rt, lease.id, actor=k.actor(k.other_brand))


class TestPool:
    @pytest.fixture
    def pool(self, rt: Runtime, funded: Kob) -> billing.PoolView:
        k = funded
        pool = billing.do_create_pool(rt, k.brand, "华东共享 East pool", actor=k.actor(k.brand))
        billing.do_fund_pool(rt, pool.id, 50_000, actor=k.actor(k.brand))
        for store in k.stores[1:]:
            billing.do_set_pool_member(rt, pool.id, store, 20_000, actor=k.actor(k.brand))
        return pool

    def test_store_cannot_exceed_its_daily_cap(self, rt: Runtime, funded: Kob, pool: billing.PoolView) -> None:
        k = funded
        store, actor = k.stores[1], k.actor(k.stores[1])
        lease = billing.do_reserve_from_pool(rt, pool.id, store, 15_000, 60, actor=actor)
        err = refused(rt, (k.brand, store), "budget_cap_reached", billing.do_reserve_from_pool, rt, pool.id, store,
                      5_001, 60, actor=actor)
        assert err.allowed == "at most 5000 fen"
        billing.do_release(rt, lease.id, spent_fen=10_000, actor=actor)  # unspent 5,000 frees cap room
        billing.do_reserve_from_pool(rt, pool.id, store, 10_000, 60, actor=actor)
        assert billing.get_pool(rt, pool.id, actor=OP).members[0].used_today_fen == 20_000
        assert_books(rt)

    def test_cap_resets_on_the_next_budget_day(self, rt: Runtime, funded: Kob, pool: billing.PoolView) -> None:
        k = funded
        store, actor = k.stores[1], k.actor(k.stores[1])
        lease = billing.do_reserve_from_pool(rt, pool.id, store, 20_000, 60, actor=actor)
        billing.do_release(rt, lease.id, spent_fen=20_000, actor=actor)
        rt.clock.advance(timedelta(days=1))
        billing.do_reserve_from_pool(rt, pool.id, store, 20_000, 60, actor=actor)
        assert_books(rt)

    def test_pool_never_goes_negative(self, rt: Runtime, funded: Kob, pool: billing.PoolView) -> None:
        k = funded
        billing.do_set_pool_member(rt, pool.id, k.stores[1], 40_000, actor=k.actor(k.brand))
        billing.do_set_pool_member(rt, pool.id, k.stores[2], 40_000, actor=k.actor(k.brand))
        billing.do_reserve_from_pool(rt, pool.id, k.stores[1], 40_000, 60, actor=k.actor(k.stores[1]))
        refused(rt, (k.brand,), "insufficient_funds", billing.do_reserve_from_pool, rt, pool.id, k.stores[2], 10_001,
                60, actor=k.actor(k.stores[2]))
        refused(rt, (k.brand,), "insufficient_funds", billing.do_drain_pool, rt, pool.id, 10_001,
                actor=k.actor(k.brand))

    def test_non_members_and_outsiders_cannot_draw(self, rt: Runtime, funded: Kob, pool: billing.PoolView) -> None:
        k = funded
        with pytest.raises(NotFound):
            billing.do_reserve_from_pool(rt, pool.id, k.stores[0], 1, 60, actor=k.actor(k.stores[0]))
        with pytest.raises(NotFound):
            billing.do_reserve_from_pool(rt, pool.id, k.stores[1], 1, 60, actor=k.actor(k.stores[2]))
        with pytest.raises(NotFound):
            billing.get_pool(rt, pool.id, actor=k.actor(k.other_brand))
        with pytest.raises(Conflict):
            billing.do_set_pool_member(rt, pool.id, k.other_store, 1_000, actor=k.actor(k.brand))

    def test_drain_returns_money_to_the_brand(self, rt: Runtime, funded: Kob, pool: billing.PoolView) -> None:
        k = funded
        before = wallet(rt, k.brand).balance_fen
        view = billing.do_drain_pool(rt, pool.id, 50_000, actor=k.actor(k.brand))
        assert (view.wallet.balance_fen, wallet(rt, k.brand).balance_fen) == (0, before + 50_000)
        assert_books(rt)


def test_only_finance_roles_move_money(rt: Runtime, funded: Kob) -> None:
    k = funded
    analyst = accounts.do_add_member(rt, k.brand, "分析师 Analyst", "analyst", actor=OP)
    actor = accounts.Actor.of_account(k.brand, analyst.id, accounts.Role.ANALYST)
    assert billing.get_wallet(rt, k.brand, actor=actor).balance_fen == 700_000
    with pytest.raises(Forbidden):
        billing.do_allocate(rt, k.brand, k.stores[1], 1, actor=actor)


def test_top_up_needs_a_key_and_a_positive_amount(rt: Runtime, kob: Kob) -> None:
    with pytest.raises(Invalid) as info:
        billing.do_top_up(rt, kob.brand, 100, idempotency_key=None, actor=OP)
    assert info.value.code == "idempotency_key_required"
    refused(rt, (kob.brand,), "invalid_amount", billing.do_top_up, rt, kob.brand, 0, idempotency_key="z", actor=OP)
