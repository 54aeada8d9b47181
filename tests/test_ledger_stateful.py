"""Random sequences of money operations over a brand and 5 stores keep every ledger invariant.

The machine keeps a model of what must be true (money in, money spent) and checks the database
against it after every step; a refused operation must leave every wallet exactly as it was.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, initialize, invariant, rule

from conftest import OP, START, assert_books, authorize, certified, make_settings
from zhongcao import billing
from zhongcao.accounts import Actor
from zhongcao.core import Database, ManualClock, Runtime, ZhongcaoError
from zhongcao.migrations import upgrade

_TEMPLATE: Path | None = None


def template() -> Path:
    global _TEMPLATE
    if _TEMPLATE is None:
        folder = tempfile.mkdtemp()
        atexit.register(shutil.rmtree, folder, True)
        _TEMPLATE = Path(folder) / "template.db"
        db = Database(f"sqlite:///{_TEMPLATE}")
        upgrade(db)
        db.dispose()
    return _TEMPLATE


amounts = st.integers(min_value=1, max_value=50_000)
store_index = st.integers(min_value=0, max_value=4)


class LedgerMachine(RuleBasedStateMachine):
    leases = Bundle("leases")

    @initialize()
    def world(self) -> None:
        self.dir = Path(tempfile.mkdtemp())
        shutil.copy(template(), self.dir / "state.db")
        self.rt = Runtime(db=Database(f"sqlite:///{self.dir / 'state.db'}"), clock=ManualClock(START),
                          settings=make_settings())
        self.brand = certified(self.rt, "brand", "B")
        self.stores = [certified(self.rt, "store", f"S{i}") for i in range(5)]
        self.auth = {s: authorize(self.rt, self.brand, s) for s in self.stores}
        self.funded = 0
        self.spent = 0
        self.seq = 0

    def teardown(self) -> None:
        self.rt.db.dispose()
        shutil.rmtree(self.dir, ignore_errors=True)

    def wallets(self) -> list[billing.WalletView]:
        return [billing.get_wallet(self.rt, a, actor=OP) for a in (self.brand, *self.stores)]

    def attempt(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        before = self.wallets()
        try:
            return fn(*args, **kwargs)
        except ZhongcaoError:
            assert self.wallets() == before, "a refused operation changed a wallet"
            return None

    @rule(amount=amounts)
    def top_up(self, amount: int) -> None:
        self.seq += 1
        billing.do_top_up(self.rt, self.brand, amount, idempotency_key=f"t{self.seq}", actor=OP)
        self.funded += amount

    @rule(i=store_index, amount=amounts)
    def allocate(self, i: int, amount: int) -> None:
        self.attempt(billing.do_allocate, self.rt, self.brand, self.stores[i], amount,
                     actor=Actor.of_account(self.brand))

    @rule(i=store_index, amount=amounts)
    def reclaim(self, i: int, amount: int) -> None:
        self.attempt(billing.do_reclaim, self.rt, self.brand, self.stores[i], amount,
                     actor=Actor.of_account(self.brand))

    @rule(target=leases, i=store_index, amount=amounts, ttl=st.integers(1, 120))
    def reserve(self, i: int, amount: int, ttl: int) -> int:
        lease = self.attempt(billing.do_reserve, self.rt, self.stores[i], amount, ttl, actor=OP)
        return lease.id if lease else -1

    @rule(lease=leases, fraction=st.floats(0, 1))
    def commit(self, lease: int, fraction: float) -> None:
        if lease < 0:
            return
        view = billing.get_lease(self.rt, lease, actor=OP)
        total = view.spent_fen + int((view.amount_fen - view.spent_fen) * fraction)
        result = self.attempt(billing.do_commit, self.rt, [billing.LeaseCommit(lease, total)], actor=OP)
        if result:
            self.spent += result.committed_fen

    @rule(lease=consumes(leases))
    def release(self, lease: int) -> None:
        if lease >= 0:
            self.attempt(billing.do_release, self.rt, lease, actor=OP)

    @rule(seconds=st.integers(1, 400))
    def time_passes_and_leases_expire(self, seconds: int) -> None:
        self.rt.clock.advance(timedelta(seconds=seconds))
        billing.settle_expired_leases(self.rt)

    @rule(i=store_index)
    def revoke_and_reauthorize(self, i: int) -> None:
        store = self.stores[i]
        billing.do_revoke_authorization(self.rt, self.auth[store], actor=Actor.of_account(self.brand))
        self.auth[store] = authorize(self.rt, self.brand, store)

    @invariant()
    def books_balance_and_nothing_is_spent_beyond_funding(self) -> None:
        if not hasattr(self, "rt"):
            return
        assert_books(self.rt)
        walls = self.wallets()
        assert all(w.balance_fen >= 0 and 0 <= w.reserved_fen <= w.balance_fen for w in walls)
        assert sum(w.balance_fen for w in walls) == self.funded - self.spent
        assert self.spent <= self.funded
        with self.rt.db.read() as s:
            from sqlalchemy import select

            from zhongcao.billing.models import Wallet

            revenue = s.scalar(select(Wallet.balance_fen).where(Wallet.system_key == billing.AD_REVENUE)) or 0
        assert revenue == self.spent


LedgerMachine.TestCase.settings = settings(
    max_examples=25, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_ledger_state_machine = LedgerMachine.TestCase
