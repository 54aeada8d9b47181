"""This process's budget leases, one per campaign it serves: the only money its decisions may spend.

A campaign is funded while its lease holds enough for the dearest click it could sell. Leases are taken
off the hot path (``refill``, from the sync loop) against the advertiser's wallet and the campaign's daily
budget, so serving never waits on the database and two processes can never both spend the last yuan.
A charge commits the lease's new cumulative spend in the caller's transaction, next to the durable click
record and the charge event: the ledger, the click table and the reports agree to the fen. A process
that dies leaves its leases to expire; the sweeper settles them at their committed spend.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy.orm import Session

from zhongcao.accounts import Actor
from zhongcao.billing import (
    BudgetCap,
    LeaseAsk,
    LeaseCommit,
    LeaseRefusal,
    do_commit,
    do_release,
    do_release_many,
    do_reserve_many,
)
from zhongcao.core import Runtime, ZhongcaoError

_SYSTEM = Actor.system()


@dataclass(frozen=True)
class PurseSpec:
    ttl_seconds: int = 300
    clicks_per_lease: int = 50      # a lease covers this many of the campaign's dearest clicks [U]
    min_lease_fen: int = 5_000
    renew_margin_seconds: int = 30  # a lease this close to expiry is replaced before it lapses
    retry_seconds: float = 5.0      # a campaign refused money waits this long before asking again


@dataclass
class Held:
    lease_id: int
    amount_fen: int
    spent_fen: int
    expires_at: datetime

    @property
    def remaining_fen(self) -> int:
        return self.amount_fen - self.spent_fen


@dataclass
class Refusal:
    code: str        # insufficient_funds, budget_cap_reached, ...
    until: datetime  # when to ask again
    budget: float    # the daily budget it was refused under: a raised budget asks again at once


_NEVER = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class _Funded:
    """``funded``'s last answer: good for the same arrays and leases until the first lease expires."""

    campaign_ids: np.ndarray
    need_fen: np.ndarray
    version: int
    until: datetime
    funded: np.ndarray


@dataclass
class Purse:
    rt: Runtime
    holder: str
    spec: PurseSpec = field(default_factory=PurseSpec)

    def __post_init__(self) -> None:
        self.held: dict[int, Held] = {}         # campaign id → its lease
        self.refused: dict[int, Refusal] = {}   # campaign id → why it has no money now
        self._lock = threading.RLock()
        self._charged: set[int] = set()  # campaigns charged in the open ``charging`` transaction
        self._unsaved: dict[int, int] = {}  # lease → its spend, charged in the open transaction, not yet committed
        self._version = 0  # bumped whenever a lease is taken, spent from or dropped, or money is owed
        self.owed: dict[int, int] = {}  # campaign id → millifen of CPM impressions served, not yet charged
        self._owing = threading.Lock()  # not the lease lock, which a charge holds across a database write
        self._funded: _Funded | None = None

    def funded(self, campaign_ids: np.ndarray, need_fen: np.ndarray) -> np.ndarray:
        """Which campaigns can pay their dearest click now, from leases this process holds. Read without the
        lock, which a renewal holds across a database write: a stale answer only lets a campaign into an
        auction, and its click's charge checks the lease again under the lock."""
        now = self.rt.now()
        last = self._funded  # one answer serves every request until a lease changes or expires
        if (last is not None and last.campaign_ids is campaign_ids and last.need_fen is need_fen
                and last.version == self._version and now < last.until):
            return last.funded
        version, held = self._version, dict(self.held)
        owed = {c: -(-m // 1000) for c, m in self.owed.items()}  # whole fen, rounded up
        funded = np.array([(h := held.get(c)) is not None and h.remaining_fen - owed.get(c, 0) >= n
                           and h.expires_at > now
                           for c, n in zip(campaign_ids.tolist(), need_fen.tolist(), strict=True)], dtype=bool)
        until = min((held[c].expires_at for c in campaign_ids[funded].tolist()), default=_NEVER)
        self._funded = _Funded(campaign_ids, need_fen, version, until, funded)
        return funded

    def room(self, campaign_ids: np.ndarray) -> np.ndarray:
        """What each campaign's lease has left to spend now, owed CPM money taken off (0 without a lease)."""
        now = self.rt.now()
        held, owed = dict(self.held), dict(self.owed)
        return np.array([h.remaining_fen - -(-owed.get(c, 0) // 1000) if (h := held.get(c)) is not None
                         and h.expires_at > now else 0 for c in campaign_ids.tolist()], dtype=np.float64)

    def refill(self, campaign_ids: np.ndarray, accounts: np.ndarray, budgets: np.ndarray, need_fen: np.ndarray) -> None:
        """Take a fresh lease for every campaign short of money or near its lease's expiry: one transaction
        gives the old leases back, one takes the new ones."""
        now, day_ends = self.rt.now(), self.rt.day_ends_at()
        renew_after = now + timedelta(seconds=self.spec.renew_margin_seconds)
        with self._lock:
            due = []
            for c, account, budget, need in zip(campaign_ids.tolist(), accounts.tolist(), budgets.tolist(),
                                                need_fen.tolist(), strict=True):
                held, refusal = self.held.get(c), self.refused.get(c)
                # A lease ending with the budget day is not renewed early: its successor would end there too.
                if (held is not None and held.remaining_fen >= need and held.expires_at > now
                        and (held.expires_at > renew_after or held.expires_at >= day_ends)):
                    continue
                if refusal is not None and refusal.until > now and refusal.budget == budget:
                    continue
                due.append((c, account, budget, int(need)))
            self._renew(due)

    def _renew(self, due: list[tuple[int, int, float, int]]) -> None:
        """New leases for (campaign, account, daily budget, dearest click) each, as large as a lease may be
        and the money allows; a campaign refused waits until the money could be there."""
        if not due:
            return
        self._give_back([c for c, _, _, _ in due])
        asks = [LeaseAsk(account, max(need * self.spec.clicks_per_lease, self.spec.min_lease_fen, need), need,
                         (BudgetCap(f"campaign:{c}", int(budget)),) if np.isfinite(budget) else ())
                for c, account, budget, need in due]
        try:
            answers = do_reserve_many(self.rt, asks, self.spec.ttl_seconds, actor=_SYSTEM, holder=self.holder)
        except ZhongcaoError as exc:  # one spender may not spend now (e.g. frozen): ask for each on its own
            if len(asks) > 1:
                for one in due:
                    self._renew([one])
                return
            answers = [LeaseRefusal(exc.code, 0)]
        now = self.rt.now()
        for (c, _, budget, _), answer in zip(due, answers, strict=True):
            if isinstance(answer, LeaseRefusal):
                # another process's lease may hand budget back any time; a new budget day surely does
                until = min(now + timedelta(seconds=self.spec.retry_seconds), self.rt.day_ends_at())
                self.refused[c] = Refusal(answer.code, until, budget)
                continue
            self.held[c] = Held(answer.id, answer.amount_fen, 0, answer.expires_at)
            self.refused.pop(c, None)
        self._version += 1

    def _give_back(self, campaign_ids: list[int]) -> None:
        leases = [self.held.pop(c) for c in campaign_ids if c in self.held]
        self._version += 1
        for held in leases:
            self._unsaved.pop(held.lease_id, None)  # the release records the spend
        if not leases:
            return
        try:
            do_release_many(self.rt, [(h.lease_id, h.spent_fen) for h in leases], actor=_SYSTEM)
        except ZhongcaoError:  # one was settled by the sweeper already: its committed spend stands; the rest go
            for held in leases:
                with contextlib.suppress(ZhongcaoError):
                    do_release(self.rt, held.lease_id, actor=_SYSTEM, spent_fen=held.spent_fen)

    @contextlib.contextmanager
    def charging(self) -> Iterator[Session]:
        """The transaction a charge runs in, with whatever it records beside it. One at a time per process:
        a lease's cumulative spend must commit in the order it grew. If it fails, each lease charged in it
        is dropped: the database kept the lease's committed spend, which is what it settles at when it
        expires, and the next charge takes a fresh one."""
        with self._lock:
            self._charged = set()
            self._unsaved = {}
            try:
                with self.rt.db.transaction() as s:
                    yield s
                    self._save()
            except BaseException:
                self._unsaved = {}
                for campaign_id in self._charged:
                    self.held.pop(campaign_id, None)
                self._version += 1
                raise

    def _save(self) -> None:
        """Commit each lease's spend once per transaction, however many charges it took."""
        if self._unsaved:
            do_commit(self.rt, [LeaseCommit(lease, spent) for lease, spent in sorted(self._unsaved.items())],
                      actor=_SYSTEM)
            self._unsaved = {}

    def charge(self, campaign_id: int, account_id: int, budget: float, price_fen: int) -> tuple[int, int | None]:
        """Charge ``price_fen`` to the campaign inside ``charging``; returns (charged, lease). With no lease
        able to pay, nothing is charged: a free click, never an overspend."""
        with self._lock:
            held = self.held.get(campaign_id)
            now = self.rt.now()
            if held is None or held.remaining_fen < price_fen or held.expires_at <= now:
                refusal = self.refused.get(campaign_id)  # refused just now: asking again per click is no use
                if refusal is None or refusal.until <= now or refusal.budget != budget:
                    self._renew([(campaign_id, account_id, budget, price_fen)])
                held = self.held.get(campaign_id)
                if held is None or held.remaining_fen < price_fen or held.expires_at <= now:
                    return 0, None
            held.spent_fen += price_fen
            self._unsaved[held.lease_id] = held.spent_fen  # committed when the charging transaction ends
            self._charged.add(campaign_id)
            self._version += 1
            return price_fen, held.lease_id

    def owe(self, campaign_id: int, millifen: int) -> None:
        """CPM impressions were served: their price counts against the lease until it is charged, so a
        campaign stops entering auctions before its lease could not pay."""
        with self._owing:
            self.owed[campaign_id] = self.owed.get(campaign_id, 0) + millifen
            self._version += 1

    def settled(self, campaign_id: int, millifen: int) -> None:
        """Owed money was charged (or, with no lease to pay it, let go)."""
        with self._owing:
            left = self.owed.get(campaign_id, 0) - millifen
            if left > 0:
                self.owed[campaign_id] = left
            else:
                self.owed.pop(campaign_id, None)
            self._version += 1

    def close(self) -> None:
        with self._lock:
            self._give_back(list(self.held))
