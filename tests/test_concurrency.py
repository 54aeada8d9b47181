"""8 threads × 500 random reserve, commit and allocate operations over one brand and 10 stores.

Every thread keeps its own tally of what it moved; at the end the database must agree to the fen
with the sum of the tallies (no lost update), and every ledger invariant must hold.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from conftest import OP, assert_books, authorize, certified
from zhongcao import billing
from zhongcao.accounts import Actor
from zhongcao.core import Runtime, ZhongcaoError

THREADS, OPS, STORES = 8, 500, 10


def run_threads(worker: Callable[[int], None]) -> None:
    """Run ``worker(t)`` on THREADS threads at once; fail the test with the first error any thread raised."""
    failures: list[BaseException] = []

    def guarded(t: int) -> None:
        try:
            worker(t)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=guarded, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert failures == []


def test_concurrent_money_operations_lose_nothing(rt: Runtime) -> None:
    brand = certified(rt, "brand", "B")
    stores = [certified(rt, "store", f"S{i}") for i in range(STORES)]
    for s in stores:
        authorize(rt, brand, s)
    funded = 5_000_000
    billing.do_top_up(rt, brand, funded, idempotency_key="fund", actor=OP)
    tallies = [{"allocated": np.zeros(STORES, dtype=np.int64), "spent": 0, "refused": 0} for _ in range(THREADS)]
    as_brand = Actor.of_account(brand)

    def worker(t: int) -> None:
        rng = np.random.default_rng(1000 + t)
        tally = tallies[t]
        leases: list[tuple[int, int, int]] = []  # id, amount, committed so far
        for _ in range(OPS):
            op = rng.choice(["allocate", "reserve", "commit"], p=[0.3, 0.3, 0.4])
            i = int(rng.integers(STORES))
            try:
                if op == "allocate":
                    amount = int(rng.integers(1, 20_000))
                    billing.do_allocate(rt, brand, stores[i], amount, actor=as_brand)
                    tally["allocated"][i] += amount
                elif op == "reserve" or not leases:
                    lease = billing.do_reserve(rt, stores[i], int(rng.integers(1, 5_000)), 600, actor=OP)
                    leases.append((lease.id, lease.amount_fen, 0))
                else:
                    k = int(rng.integers(len(leases)))
                    lease_id, amount, done = leases[k]
                    total = done + int(rng.integers(0, amount - done + 1))
                    result = billing.do_commit(rt, [billing.LeaseCommit(lease_id, total)], actor=OP)
                    tally["spent"] += result.committed_fen
                    leases[k] = (lease_id, amount, total)
            except ZhongcaoError as exc:
                if exc.code != "insufficient_funds":
                    raise
                tally["refused"] += 1

    run_threads(worker)

    spent = sum(int(t["spent"]) for t in tallies)
    allocated = sum(t["allocated"] for t in tallies)
    assert billing.get_wallet(rt, brand, actor=OP).balance_fen == funded - int(allocated.sum())
    store_wallets = [billing.get_wallet(rt, s, actor=OP) for s in stores]
    assert sum(w.balance_fen for w in store_wallets) == int(allocated.sum()) - spent
    assert all(w.reserved_fen <= w.balance_fen for w in store_wallets)
    assert sum(int(t["refused"]) for t in tallies) < THREADS * OPS  # the run did real work
    assert_books(rt)


def test_pool_caps_hold_under_concurrent_draws(rt: Runtime) -> None:
    """Threads race to reserve and spend from one pool: no store passes its daily cap, and the pool
    never pays out more than it holds."""
    brand = certified(rt, "brand", "B")
    stores = [certified(rt, "store", f"S{i}") for i in range(4)]
    for s in stores:
        authorize(rt, brand, s)
    billing.do_top_up(rt, brand, 100_000, idempotency_key="fund", actor=OP)
    pool = billing.do_create_pool(rt, brand, "pool", actor=OP)
    billing.do_fund_pool(rt, pool.id, 30_000, actor=OP)  # less than the caps add up to
    caps = [500, 8_000, 12_000, 20_000]  # the first is below most draws: refused by its cap, not the pool
    for s, cap in zip(stores, caps, strict=True):
        billing.do_set_pool_member(rt, pool.id, s, cap, actor=OP)
    refusals: set[str] = set()

    def worker(t: int) -> None:
        rng = np.random.default_rng(t)
        for _ in range(60):
            i = int(rng.integers(len(stores)))
            try:
                lease = billing.do_reserve_from_pool(rt, pool.id, stores[i], int(rng.integers(100, 3_000)), 600,
                                                     actor=Actor.of_account(stores[i]))
            except ZhongcaoError as exc:
                refusals.add(exc.code)
                continue
            billing.do_commit(rt, [billing.LeaseCommit(lease.id, lease.amount_fen)], actor=OP)

    run_threads(worker)
    assert refusals <= {"budget_cap_reached", "insufficient_funds"}
    view = billing.get_pool(rt, pool.id, actor=OP)
    used = {m.store_id: m.used_today_fen for m in view.members}
    assert all(used[s] <= cap for s, cap in zip(stores, caps, strict=True)), used
    assert view.wallet.balance_fen >= 0
    assert view.wallet.balance_fen == 30_000 - sum(used.values())
    assert "budget_cap_reached" in refusals  # the caps were really tested
    assert_books(rt)
