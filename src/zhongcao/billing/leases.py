"""Budget leases: how ad delivery spends at serving speed with no overspend, even when a process dies.

A serving process reserves a slice of a wallet (``do_reserve``), spends it in memory, records each
charge durably, and commits the running total in batches (``do_commit``). ``do_release`` or expiry
settles the lease: the committed spend stays spent, the rest becomes available again. Commits carry
the cumulative spend of a lease, so replaying a commit changes nothing.

A lease also counts against daily caps (``BudgetCap``): a pool's per-store cap now, a campaign's daily
budget later. Cap usage is held in the database and taken at reserve time, so two processes cannot
both spend the last yuan of a day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from zhongcao.accounts import Actor, Capability, record_audit, require, require_owner
from zhongcao.billing.ledger import (
    AD_REVENUE,
    account_wallet_id,
    adjust,
    delegated_free,
    insert_for,
    insufficient,
    lock_wallets,
    post,
    system_wallet_id,
)
from zhongcao.billing.models import CapUsage, Lease, LeaseCap, Wallet
from zhongcao.core import Conflict, Invalid, NotFound, Runtime, require_positive_fen

MAX_TTL_SECONDS = 86_400


@dataclass(frozen=True)
class BudgetCap:
    """A daily ceiling a lease counts against, named by scope, e.g. ``pool:3:store:17``."""

    scope: str
    limit_fen: int


@dataclass(frozen=True)
class LeaseView:
    id: int
    account_id: int
    amount_fen: int
    spent_fen: int
    state: str
    holder: str
    expires_at: datetime

    @classmethod
    def of(cls, lease: Lease) -> LeaseView:
        return cls(lease.id, lease.account_id, lease.amount_fen, lease.spent_fen, lease.state, lease.holder,
                   lease.expires_at)


@dataclass(frozen=True)
class LeaseCommit:
    lease_id: int
    spent_fen: int  # the lease's cumulative durable charges, not an increment


@dataclass(frozen=True)
class CommitResult:
    leases: int
    committed_fen: int  # newly moved to ad revenue by this call
    txn_id: int | None


def _take_caps(rt: Runtime, s: Session, caps: Iterable[BudgetCap], amount_fen: int) -> None:
    day = rt.today()
    for cap in sorted(caps, key=lambda c: c.scope):  # caps lock after wallets, in scope order
        s.execute(insert_for(s)(CapUsage).values(scope=cap.scope, day=day, used_fen=0).on_conflict_do_nothing())
        usage = s.scalar(rt.db.for_update(select(CapUsage).where(CapUsage.scope == cap.scope, CapUsage.day == day))
                         .execution_options(populate_existing=True))
        assert usage is not None
        room = cap.limit_fen - usage.used_fen
        if amount_fen > room:
            raise Conflict("budget_cap_reached", f"{cap.scope} has {max(room, 0)} fen left today",
                           field="amount_fen", allowed=f"at most {max(room, 0)} fen")
        usage.used_fen += amount_fen


def cap_used_today(rt: Runtime, scope: str) -> int:
    """How much of a daily cap is taken (reserved or spent) today."""
    with rt.db.read() as s:
        used = s.scalar(select(CapUsage.used_fen).where(CapUsage.scope == scope, CapUsage.day == rt.today()))
        return int(used or 0)


def reserve_in(rt: Runtime, s: Session, wallet_id: int, spender_id: int, amount_fen: int, ttl_seconds: int,
               *, caps: Sequence[BudgetCap], holder: str, actor: Actor) -> LeaseView:
    """Reserve inside the caller's transaction: the wallet must already be one the caller may spend."""
    require_positive_fen(amount_fen)
    if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int) or not 1 <= ttl_seconds <= MAX_TTL_SECONDS:
        raise Invalid("invalid_ttl", f"ttl_seconds must be 1..{MAX_TTL_SECONDS}", field="ttl_seconds",
                      allowed=f"integer 1..{MAX_TTL_SECONDS}")
    _settle_expired_in(rt, s, select(Lease.id).where(Lease.wallet_id == wallet_id), actor=Actor.system())
    wallet = lock_wallets(rt, s, [wallet_id])[wallet_id]
    available = wallet.balance_fen - wallet.reserved_fen
    if amount_fen > available:
        raise insufficient("available", available)
    _take_caps(rt, s, caps, amount_fen)
    adjust(s, wallet_id, reserved_fen=amount_fen)
    now = rt.now()
    lease = Lease(wallet_id=wallet_id, account_id=spender_id, amount_fen=amount_fen, spent_fen=0, state="open",
                  holder=holder[:100], created_at=now, expires_at=now + timedelta(seconds=ttl_seconds))
    s.add(lease)
    s.flush()
    day = rt.today()
    s.add_all([LeaseCap(lease_id=lease.id, scope=c.scope, day=day) for c in caps])
    record_audit(s, rt, actor, account_id=spender_id, action="lease.reserve", target=f"lease:{lease.id}",
                 after={"amount_fen": amount_fen, "expires_at": lease.expires_at.isoformat()})
    return LeaseView.of(lease)


def do_reserve(rt: Runtime, account_id: int, amount_fen: int, ttl_seconds: int, *, actor: Actor,
               holder: str = "", caps: Sequence[BudgetCap] = ()) -> LeaseView:
    with rt.db.transaction() as s:
        require(s, actor, account_id, Capability.OPERATE)
        return reserve_in(rt, s, account_wallet_id(s, account_id), account_id, amount_fen, ttl_seconds,
                          caps=caps, holder=holder, actor=actor)


def _lock_leases(rt: Runtime, s: Session, ids: Iterable[int]) -> dict[int, Lease]:
    stmt = select(Lease).where(Lease.id.in_(sorted(set(ids)))).order_by(Lease.id)
    return {lease.id: lease for lease in s.scalars(rt.db.for_update(stmt.execution_options(populate_existing=True)))}


def _check_spenders(s: Session, actor: Actor, leases: Iterable[Lease]) -> None:
    """One check per spending account, however many of its leases a batch carries."""
    first: dict[int, int] = {}
    for lease in sorted(leases, key=lambda item: item.id):
        first.setdefault(lease.account_id, lease.id)
    for account_id, lease_id in sorted(first.items()):
        require_owner(s, actor, account_id, Capability.OPERATE, "lease", lease_id)


def _spend(rt: Runtime, s: Session, deltas: dict[int, int], wallets: dict[int, Wallet], *, actor: Actor,
           memo: dict[str, object]) -> int | None:
    """Move committed spend from each wallet's reservation to ad revenue, in one ledger transaction."""
    if not deltas:
        return None
    also = {w: {"reserved_fen": -d, "delegated_fen": -min(wallets[w].delegated_fen, d)} for w, d in deltas.items()}
    moves = {w: -d for w, d in deltas.items()}
    moves[system_wallet_id(s, AD_REVENUE)] = sum(deltas.values())
    return post(rt, s, "spend", moves, actor=actor, memo=memo, also=also)


def _validate(rt: Runtime, lease: Lease, spent_fen: object, field: str) -> int:
    """How much more this commit spends; 0 for a replay."""
    if isinstance(spent_fen, bool) or not isinstance(spent_fen, int) or spent_fen < 0:
        raise Invalid("invalid_amount", "spent_fen must be a non-negative integer", field=field,
                      allowed="integer >= 0")
    if spent_fen < lease.spent_fen:
        raise Conflict("spent_decreased", f"lease {lease.id} already committed {lease.spent_fen} fen; commits "
                       "carry the cumulative spend", field=field, allowed=f"at least {lease.spent_fen}")
    if spent_fen > lease.amount_fen:
        raise Conflict("lease_overspent", f"lease {lease.id} holds {lease.amount_fen} fen", field=field,
                       allowed=f"at most {lease.amount_fen}")
    delta = spent_fen - lease.spent_fen
    if delta and lease.state != "open":
        raise Conflict("lease_closed", f"lease {lease.id} is settled", field=field,
                       allowed=f"exactly {lease.spent_fen} (a replay)")
    grace = timedelta(seconds=rt.settings.lease_settle_grace_seconds)
    if delta and rt.now() >= lease.expires_at + grace:
        raise Conflict("lease_expired", f"lease {lease.id} expired at {lease.expires_at.isoformat()}",
                       field=field, allowed="commit before expires_at plus the settle grace")
    return delta


def do_commit(rt: Runtime, commits: Sequence[LeaseCommit], *, actor: Actor) -> CommitResult:
    """Commit many leases' spend at once: one ledger transaction, all or nothing."""
    if not commits:
        return CommitResult(0, 0, None)
    seen: set[int] = set()
    for i, c in enumerate(commits):
        if c.lease_id in seen:
            raise Invalid("duplicate_lease", f"lease {c.lease_id} appears twice; send its latest total once",
                          field=f"commits[{i}].lease_id", allowed="each lease once per batch")
        seen.add(c.lease_id)
    with rt.db.transaction() as s:
        leases = _lock_leases(rt, s, seen)
        for c in commits:
            if c.lease_id not in leases:
                raise NotFound("lease", c.lease_id)
        _check_spenders(s, actor, leases.values())
        deltas = {c.lease_id: _validate(rt, leases[c.lease_id], c.spent_fen,
                                        f"commits[{i}].spent_fen" if len(commits) > 1 else "spent_fen")
                  for i, c in enumerate(commits)}
        moved = {lease_id: d for lease_id, d in deltas.items() if d}
        per_wallet: dict[int, int] = defaultdict(int)
        per_account: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # leases, fen
        for lease_id, d in moved.items():
            lease = leases[lease_id]
            per_wallet[lease.wallet_id] += d
            per_account[lease.account_id][0] += 1
            per_account[lease.account_id][1] += d
        wallets = lock_wallets(rt, s, list(per_wallet))
        txn_id = _spend(rt, s, per_wallet, wallets, actor=actor, memo={"leases": len(moved)})
        if moved:
            s.execute(update(Lease), [{"id": i, "spent_fen": leases[i].spent_fen + d} for i, d in moved.items()])
        for account_id, (count, fen) in sorted(per_account.items()):
            record_audit(s, rt, actor, account_id=account_id, action="lease.commit", target=f"txn:{txn_id}",
                         after={"leases": count, "committed_fen": fen})
        return CommitResult(len(commits), sum(moved.values()), txn_id)


def _close(rt: Runtime, s: Session, lease: Lease, *, actor: Actor, reason: str) -> None:
    """Settle a lease at its committed spend: the unspent rest leaves the reservation and the caps."""
    unspent = lease.amount_fen - lease.spent_fen
    ids = [lease.wallet_id] + ([lease.return_to_wallet_id] if lease.return_to_wallet_id else [])
    wallet = lock_wallets(rt, s, ids)[lease.wallet_id]
    adjust(s, lease.wallet_id, reserved_fen=-unspent)
    for cap in s.scalars(select(LeaseCap).where(LeaseCap.lease_id == lease.id)):
        s.execute(update(CapUsage).where(CapUsage.scope == cap.scope, CapUsage.day == cap.day)
                  .values(used_fen=CapUsage.used_fen - unspent).execution_options(synchronize_session=False))
    returned = 0
    if lease.return_to_wallet_id and lease.return_cap_fen:
        returned = min(unspent, lease.return_cap_fen, delegated_free(wallet))
        if returned > 0:
            post(rt, s, "revoke_return", {lease.wallet_id: -returned, lease.return_to_wallet_id: returned},
                 actor=actor, memo={"amount_fen": returned, "lease_id": lease.id},
                 also={lease.wallet_id: {"delegated_fen": -returned}})
    lease.state = "closed"
    lease.closed_at = rt.now()
    record_audit(s, rt, actor, account_id=lease.account_id, action=f"lease.{reason}", target=f"lease:{lease.id}",
                 before={"state": "open"}, after={"state": "closed", "spent_fen": lease.spent_fen,
                                                  "released_fen": unspent, "returned_to_parent_fen": returned})


def do_release(rt: Runtime, lease_id: int, *, actor: Actor, spent_fen: int | None = None) -> LeaseView:
    """Close a lease, optionally with a final cumulative spend. Releasing a settled lease is a no-op."""
    with rt.db.transaction() as s:
        leases = _lock_leases(rt, s, [lease_id])
        if lease_id not in leases:
            raise NotFound("lease", lease_id)
        lease = leases[lease_id]
        require_owner(s, actor, lease.account_id, Capability.OPERATE, "lease", lease_id)
        # Account wallets before the final spend touches ad revenue: the global lock order.
        lock_wallets(rt, s, [lease.wallet_id] + ([lease.return_to_wallet_id] if lease.return_to_wallet_id else []))
        if spent_fen is not None:
            do_commit(rt, [LeaseCommit(lease_id, spent_fen)], actor=actor)
            s.refresh(lease)
        if lease.state == "open":
            _close(rt, s, lease, actor=actor, reason="release")
        return LeaseView.of(lease)


def _settle_expired_in(rt: Runtime, s: Session, candidates: object, *, actor: Actor, limit: int = 500) -> int:
    cutoff = rt.now() - timedelta(seconds=rt.settings.lease_settle_grace_seconds)
    stmt = (select(Lease).where(Lease.id.in_(candidates), Lease.state == "open", Lease.expires_at <= cutoff)  # type: ignore[arg-type]
            .order_by(Lease.id).limit(limit))
    expired = list(s.scalars(rt.db.for_update(stmt)))
    for lease in expired:
        _close(rt, s, lease, actor=actor, reason="expire")
    return len(expired)


def settle_expired_leases(rt: Runtime, *, limit: int = 500) -> int:
    """Return expired leases' unspent money; the server runs this on a timer. Returns how many settled."""
    with rt.db.transaction() as s:
        return _settle_expired_in(rt, s, select(Lease.id).where(Lease.state == "open"), actor=Actor.system(),
                                  limit=limit)


def get_lease(rt: Runtime, lease_id: int, *, actor: Actor) -> LeaseView:
    with rt.db.read() as s:
        lease = s.get(Lease, lease_id)
        if lease is None:
            raise NotFound("lease", lease_id)
        require_owner(s, actor, lease.account_id, Capability.READ, "lease", lease_id)
        return LeaseView.of(lease)
