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
from datetime import date, datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from zhongcao.accounts import (
    Actor,
    Capability,
    record_audits,
    require,
    require_all,
    require_owner,
    require_owners,
)
from zhongcao.billing.ledger import (
    AD_REVENUE,
    account_wallet_id,
    account_wallet_ids,
    adjust,
    adjust_many,
    delegated_free,
    insufficient,
    lock_wallets,
    post,
    system_wallet_id,
)
from zhongcao.billing.models import CapUsage, Lease, LeaseCap, Wallet
from zhongcao.core import Conflict, Invalid, NotFound, Runtime, insert_for, require_positive_fen

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


def _lock_caps(rt: Runtime, s: Session, scopes: Iterable[str]) -> dict[str, CapUsage]:
    """Today's usage rows of these caps, created at zero if new, locked after wallets in scope order."""
    day = rt.today()
    wanted = sorted(set(scopes))
    if not wanted:
        return {}
    s.execute(insert_for(s)(CapUsage).on_conflict_do_nothing(),
              [{"scope": scope, "day": day, "used_fen": 0} for scope in wanted])
    rows = s.scalars(rt.db.for_update(select(CapUsage).where(CapUsage.scope.in_(wanted), CapUsage.day == day)
                                      .order_by(CapUsage.scope)).execution_options(populate_existing=True))
    usage = {row.scope: row for row in rows}
    assert len(usage) == len(wanted)
    return usage


def _take_caps(rt: Runtime, s: Session, caps: Iterable[BudgetCap], amount_fen: int) -> None:
    caps = list(caps)
    usage = _lock_caps(rt, s, [c.scope for c in caps])
    for cap in caps:
        room = cap.limit_fen - usage[cap.scope].used_fen
        if amount_fen > room:
            raise Conflict("budget_cap_reached", f"{cap.scope} has {max(room, 0)} fen left today",
                           field="amount_fen", allowed=f"at most {max(room, 0)} fen")
    for cap in caps:
        usage[cap.scope].used_fen += amount_fen


def cap_used_today(rt: Runtime, scope: str) -> int:
    """How much of a daily cap is taken (reserved or spent) today."""
    with rt.db.read() as s:
        used = s.scalar(select(CapUsage.used_fen).where(CapUsage.scope == scope, CapUsage.day == rt.today()))
        return int(used or 0)


def _check_ttl(ttl_seconds: object) -> None:
    if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int) or not 1 <= ttl_seconds <= MAX_TTL_SECONDS:
        raise Invalid("invalid_ttl", f"ttl_seconds must be 1..{MAX_TTL_SECONDS}", field="ttl_seconds",
                      allowed=f"integer 1..{MAX_TTL_SECONDS}")


def _grant(rt: Runtime, s: Session, grants: Sequence[tuple[int, int, int, Sequence[BudgetCap]]], ttl_seconds: int,
           holder: str, actor: Actor) -> list[LeaseView]:
    """The lease rows (wallet, spender, amount, caps each), their caps and audits, once the money and the caps
    are taken: one flush for all.

    A lease under a daily cap ends with the budget day it was counted against, whatever its TTL: spent after
    midnight, its rest would be yesterday's cap room spent today, on top of today's budget."""
    now, day = rt.now(), rt.today()
    ends = now + timedelta(seconds=ttl_seconds)
    capped = min(ends, rt.day_ends_at())
    leases = [Lease(wallet_id=wallet_id, account_id=spender_id, amount_fen=amount, spent_fen=0, state="open",
                    holder=holder[:100], created_at=now, expires_at=capped if caps else ends)
              for wallet_id, spender_id, amount, caps in grants]
    s.add_all(leases)
    s.flush()
    s.add_all([LeaseCap(lease_id=lease.id, scope=c.scope, day=day)
               for lease, (_, _, _, caps) in zip(leases, grants, strict=True) for c in caps])
    record_audits(s, rt, actor, [(lease.account_id, "lease.reserve", f"lease:{lease.id}", {
        "amount_fen": lease.amount_fen, "expires_at": lease.expires_at.isoformat()}) for lease in leases])
    return [LeaseView.of(lease) for lease in leases]


def reserve_in(rt: Runtime, s: Session, wallet_id: int, spender_id: int, amount_fen: int, ttl_seconds: int,
               *, caps: Sequence[BudgetCap], holder: str, actor: Actor) -> LeaseView:
    """Reserve inside the caller's transaction: the wallet must already be one the caller may spend."""
    require_positive_fen(amount_fen)
    _check_ttl(ttl_seconds)
    _settle_expired_in(rt, s, select(Lease.id).where(Lease.wallet_id == wallet_id), actor=Actor.system())
    wallet = lock_wallets(rt, s, [wallet_id])[wallet_id]
    available = wallet.balance_fen - wallet.reserved_fen
    if amount_fen > available:
        raise insufficient("available", available)
    _take_caps(rt, s, caps, amount_fen)
    adjust(s, wallet_id, reserved_fen=amount_fen)
    return _grant(rt, s, [(wallet_id, spender_id, amount_fen, caps)], ttl_seconds, holder, actor)[0]


@dataclass(frozen=True)
class LeaseAsk:
    """One spender's ask in a batch: as much as its wallet and caps allow up to ``amount_fen``, or nothing if
    that is less than ``min_fen`` (the dearest thing it could buy)."""

    account_id: int
    amount_fen: int
    min_fen: int
    caps: tuple[BudgetCap, ...] = ()


@dataclass(frozen=True)
class LeaseRefusal:
    code: str          # insufficient_funds or budget_cap_reached: which one ran short
    available_fen: int  # what there was, below the ask's minimum


def do_reserve_many(rt: Runtime, asks: Sequence[LeaseAsk], ttl_seconds: int, *, actor: Actor,
                    holder: str = "") -> list[LeaseView | LeaseRefusal]:
    """Leases for many spenders in one transaction, each as large as there is money for: a serving process
    renews every campaign it serves at once, and a campaign near its daily budget takes the rest of it in
    one ask instead of halving its way down. A refusal is an answer, not an error, so one spender short of
    money does not undo the others' leases."""
    _check_ttl(ttl_seconds)
    for i, ask in enumerate(asks):
        require_positive_fen(ask.amount_fen, field=f"asks[{i}].amount_fen")
        require_positive_fen(ask.min_fen, field=f"asks[{i}].min_fen")
        if ask.amount_fen < ask.min_fen:
            raise Invalid("invalid_amount", "amount_fen must be at least min_fen", field=f"asks[{i}].amount_fen",
                          allowed=f"integer >= {ask.min_fen}")
    if not asks:
        return []
    with rt.db.transaction() as s:
        spenders = sorted({a.account_id for a in asks})
        require_all(s, actor, spenders, Capability.OPERATE)
        wallet_of = account_wallet_ids(s, spenders)
        _settle_expired_in(rt, s, select(Lease.id).where(Lease.wallet_id.in_(list(wallet_of.values()))),
                           actor=Actor.system())
        free = {w.id: w.balance_fen - w.reserved_fen for w in lock_wallets(rt, s, list(wallet_of.values())).values()}
        usage = _lock_caps(rt, s, [c.scope for a in asks for c in a.caps])
        answers: list[LeaseRefusal | None] = []
        grants: list[tuple[int, int, int, Sequence[BudgetCap]]] = []
        reserved: dict[int, int] = defaultdict(int)
        for ask in asks:
            wallet_id = wallet_of[ask.account_id]
            room = min((c.limit_fen - usage[c.scope].used_fen for c in ask.caps), default=free[wallet_id])
            amount = min(ask.amount_fen, free[wallet_id], room)
            if amount < ask.min_fen:
                short = "insufficient_funds" if free[wallet_id] <= room else "budget_cap_reached"
                answers.append(LeaseRefusal(short, max(amount, 0)))
                continue
            free[wallet_id] -= amount
            reserved[wallet_id] += amount
            for c in ask.caps:
                usage[c.scope].used_fen += amount
            answers.append(None)
            grants.append((wallet_id, ask.account_id, amount, ask.caps))
        adjust_many(s, {w: {"reserved_fen": fen} for w, fen in reserved.items()})
        granted = iter(_grant(rt, s, grants, ttl_seconds, holder, actor))
        return [answer if answer is not None else next(granted) for answer in answers]


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
    require_owners(s, actor, first, Capability.OPERATE, "lease")


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
        record_audits(s, rt, actor, [(account_id, "lease.commit", f"txn:{txn_id}",
                                      {"leases": count, "committed_fen": fen})
                                     for account_id, (count, fen) in sorted(per_account.items())])
        return CommitResult(len(commits), sum(moved.values()), txn_id)


_CAPS = cast(Table, CapUsage.__table__)
_GIVE_BACK = (update(_CAPS).where(_CAPS.c.scope == bindparam("s"), _CAPS.c.day == bindparam("d"))
              .values(used_fen=_CAPS.c.used_fen - bindparam("fen")))


def _close(rt: Runtime, s: Session, leases: Sequence[Lease], *, actor: Actor, reason: str) -> None:
    """Settle leases at their committed spend: the unspent rest leaves the reservations and the caps. A pool's
    lease hands back to the parent what it had drawn on the parent's delegation."""
    if not leases:
        return
    wallets = lock_wallets(rt, s, [w for lease in leases for w in (lease.wallet_id, lease.return_to_wallet_id) if w])
    unspent = {lease.id: lease.amount_fen - lease.spent_fen for lease in leases}
    reserved: dict[int, int] = defaultdict(int)
    for lease in leases:
        reserved[lease.wallet_id] -= unspent[lease.id]
    adjust_many(s, {w: {"reserved_fen": d} for w, d in reserved.items()})
    back: dict[tuple[str, date], int] = defaultdict(int)
    for lease_id, scope, day in s.execute(select(LeaseCap.lease_id, LeaseCap.scope, LeaseCap.day)
                                          .where(LeaseCap.lease_id.in_(list(unspent)))):
        back[(scope, day)] += unspent[lease_id]
    if back:
        s.connection().execute(_GIVE_BACK, [{"s": sc, "d": d, "fen": f} for (sc, d), f in sorted(back.items())])
    now = rt.now()
    audits: list[tuple[int | None, str, str, dict[str, object] | None]] = []
    for lease in leases:
        returned = 0
        if lease.return_to_wallet_id and lease.return_cap_fen:
            returned = min(unspent[lease.id], lease.return_cap_fen, delegated_free(wallets[lease.wallet_id]))
            if returned > 0:
                post(rt, s, "revoke_return", {lease.wallet_id: -returned, lease.return_to_wallet_id: returned},
                     actor=actor, memo={"amount_fen": returned, "lease_id": lease.id},
                     also={lease.wallet_id: {"delegated_fen": -returned}})
        lease.state = "closed"
        lease.closed_at = now
        audits.append((lease.account_id, f"lease.{reason}", f"lease:{lease.id}", {
            "state": "closed", "spent_fen": lease.spent_fen, "released_fen": unspent[lease.id],
            "returned_to_parent_fen": returned}))
    record_audits(s, rt, actor, audits, before={"state": "open"})


def do_release(rt: Runtime, lease_id: int, *, actor: Actor, spent_fen: int | None = None) -> LeaseView:
    """Close a lease, optionally with a final cumulative spend. Releasing a settled lease is a no-op."""
    return do_release_many(rt, [(lease_id, spent_fen)], actor=actor)[0]


def do_release_many(rt: Runtime, releases: Sequence[tuple[int, int | None]], *, actor: Actor) -> list[LeaseView]:
    """Close many leases in one transaction, each with an optional final cumulative spend, all or nothing."""
    if not releases:
        return []
    with rt.db.transaction() as s:
        ids = [lease_id for lease_id, _ in releases]
        leases = _lock_leases(rt, s, ids)
        for lease_id in ids:
            if lease_id not in leases:
                raise NotFound("lease", lease_id)
        _check_spenders(s, actor, leases.values())
        # Account wallets before the final spend touches ad revenue: the global lock order.
        lock_wallets(rt, s, [w for lease in leases.values()
                             for w in (lease.wallet_id, lease.return_to_wallet_id) if w])
        final = [LeaseCommit(lease_id, spent) for lease_id, spent in releases if spent is not None]
        if final:
            do_commit(rt, final, actor=actor)
            leases = _lock_leases(rt, s, ids)  # reloaded with the spend just committed
        _close(rt, s, [lease for lease in leases.values() if lease.state == "open"], actor=actor, reason="release")
        return [LeaseView.of(leases[lease_id]) for lease_id in ids]


def _settle_expired_in(rt: Runtime, s: Session, candidates: object, *, actor: Actor, limit: int = 500) -> int:
    cutoff = rt.now() - timedelta(seconds=rt.settings.lease_settle_grace_seconds)
    stmt = (select(Lease).where(Lease.id.in_(candidates), Lease.state == "open", Lease.expires_at <= cutoff)  # type: ignore[arg-type]
            .order_by(Lease.id).limit(limit))
    expired = list(s.scalars(rt.db.for_update(stmt)))
    _close(rt, s, expired, actor=actor, reason="expire")
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
