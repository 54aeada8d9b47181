"""The double-entry ledger: every movement is one balanced transaction, checked before it is written.

Lock order, the one rule that keeps concurrent writers free of deadlocks: KOB account rows, then
leases (ascending id), then account and pool wallets (ascending wallet id, ``lock_wallets``), then
daily cap rows (ascending scope), and last the system wallets, touched only by ``post`` in ascending id.
Every wallet id is fixed when the wallet is created, so the order is total and the same everywhere.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhongcao.accounts import Actor, Capability, require
from zhongcao.billing.models import Entry, Txn, Wallet
from zhongcao.core import Conflict, Invalid, Runtime, insert_for

PAYMENTS = "platform:payments"      # outside money: top-ups arrive from it, refunds leave to it
AD_REVENUE = "platform:ad_revenue"  # what ad delivery charged
FEES = "platform:fees"              # marketplace service fees
EXTERNAL = {PAYMENTS}

T = TypeVar("T")


@dataclass(frozen=True)
class WalletView:
    account_id: int | None
    balance_fen: int
    reserved_fen: int
    available_fen: int
    delegated_fen: int

    @classmethod
    def of(cls, w: Wallet | None, account_id: int | None = None) -> WalletView:
        if w is None:
            return cls(account_id, 0, 0, 0, 0)
        return cls(w.account_id, w.balance_fen, w.reserved_fen, w.balance_fen - w.reserved_fen, w.delegated_fen)


@dataclass(frozen=True)
class EntryView:
    entry_id: int
    txn_id: int
    kind: str
    amount_fen: int
    actor: str
    created_at: datetime
    memo: dict[str, Any] | None


def insufficient(what: str, available: int) -> Conflict:
    """The one refusal for money that is not there, naming what was short and the most allowed."""
    return Conflict("insufficient_funds", f"only {available} fen {what}", field="amount_fen",
                    allowed=f"at most {available} fen")


def delegated_free(w: Wallet) -> int:
    """Delegated money not held by a lease. Leases draw on delegated money first, as spend does."""
    return max(0, w.delegated_fen - w.reserved_fen)


def own_free(w: Wallet) -> int:
    """The account's own available money: what a refund may pay out."""
    return w.balance_fen - w.reserved_fen - delegated_free(w)


def _ensure(session: Session, **owner: Any) -> int:
    """The wallet id for an owner, created on first use; concurrent creators cannot make two."""
    column = Wallet.account_id if "account_id" in owner else Wallet.system_key
    value = next(iter(owner.values()))
    found = session.scalar(select(Wallet.id).where(column == value))
    if found is not None:
        return found
    values = {"balance_fen": 0, "reserved_fen": 0, "delegated_fen": 0,
              "external": owner.get("system_key") in EXTERNAL, **owner}
    session.execute(insert_for(session)(Wallet).values(**values).on_conflict_do_nothing())
    found = session.scalar(select(Wallet.id).where(column == value))
    assert found is not None
    return found


def account_wallet_id(session: Session, account_id: int) -> int:
    return _ensure(session, account_id=account_id)


def account_wallet_ids(session: Session, account_ids: Iterable[int]) -> dict[int, int]:
    """``account_wallet_id`` for many accounts: one read for the wallets there, one create for each missing."""
    wanted = sorted(set(account_ids))
    found = dict(session.execute(select(Wallet.account_id, Wallet.id).where(Wallet.account_id.in_(wanted))).all())
    return {a: found[a] if a in found else _ensure(session, account_id=a) for a in wanted}


def system_wallet_id(session: Session, key: str) -> int:
    return _ensure(session, system_key=key)


def lock_wallets(rt: Runtime, session: Session, wallet_ids: Sequence[int]) -> dict[int, Wallet]:
    ids = sorted(set(wallet_ids))
    stmt = select(Wallet).where(Wallet.id.in_(ids)).order_by(Wallet.id).execution_options(populate_existing=True)
    return {w.id: w for w in session.scalars(rt.db.for_update(stmt))}


Delta = dict[str, int]  # column name → signed fen: balance_fen, reserved_fen, delegated_fen

_WALLET = cast(Table, Wallet.__table__)
_ADJUST = (
    update(_WALLET)
    .where(_WALLET.c.id == bindparam("wid"))
    .values(balance_fen=_WALLET.c.balance_fen + bindparam("d_balance"),
            reserved_fen=_WALLET.c.reserved_fen + bindparam("d_reserved"),
            delegated_fen=_WALLET.c.delegated_fen + bindparam("d_delegated"))
)


def adjust_many(session: Session, changes: Mapping[int, Delta]) -> None:
    """Relative changes to wallets, one pipelined statement batch in ascending wallet id; the loaded
    objects are expired so later reads see the new rows.

    Each wallet's columns change in one statement, so its CHECKs see only the final row."""
    if not changes:
        return
    params = [{"wid": w, "d_balance": d.get("balance_fen", 0), "d_reserved": d.get("reserved_fen", 0),
               "d_delegated": d.get("delegated_fen", 0)} for w, d in sorted(changes.items())]
    session.connection().execute(_ADJUST, params)
    for wallet_id in changes:
        if (obj := session.identity_map.get(session.identity_key(Wallet, wallet_id))) is not None:
            session.expire(obj)


def adjust(session: Session, wallet_id: int, **delta: int) -> None:
    adjust_many(session, {wallet_id: delta})


def post(
    rt: Runtime,
    session: Session,
    kind: str,
    movements: Mapping[int, int],
    *,
    actor: Actor,
    memo: dict[str, Any] | None = None,
    also: Mapping[int, Delta] | None = None,
    scope_account_id: int | None = None,
    idempotency_key: str | None = None,
    request_hash: str | None = None,
) -> int:
    """Write one balanced transaction: ``movements`` maps wallet id → signed fen and must sum to zero.

    ``also`` carries other columns that change with the money (a spend lowers ``reserved_fen``), so
    each wallet is written once. The CHECK constraints are the last line of defence behind the
    callers' own checks."""
    moves = {w: a for w, a in movements.items() if a != 0}
    if sum(moves.values()) != 0:
        raise AssertionError(f"unbalanced {kind} transaction: {moves}")
    txn = Txn(kind=kind, actor=actor.label, scope_account_id=scope_account_id, idempotency_key=idempotency_key,
              request_hash=request_hash, memo=memo, created_at=rt.now())
    session.add(txn)
    session.flush()
    changes: dict[int, Delta] = {w: dict(d) for w, d in (also or {}).items()}
    for wallet_id, amount in moves.items():
        changes.setdefault(wallet_id, {})["balance_fen"] = amount
    adjust_many(session, changes)
    session.add_all([Entry(txn_id=txn.id, wallet_id=w, amount_fen=a) for w, a in sorted(moves.items())])
    session.flush()
    return txn.id


def request_hash(**params: Any) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()


def idempotent(rt: Runtime, scope_account_id: int, key: str | None, digest: str,
               action: Callable[[], T], replay: Callable[[int], T]) -> T:
    """Run ``action`` once per (account, key). A repeat with the same request replays the first answer;
    with a different request it is refused, so a retried payment can never be applied twice."""
    if key is None:
        return action()
    if not key or len(key) > 200:
        raise Invalid("invalid_idempotency_key", "idempotency_key must be 1 to 200 characters",
                      field="idempotency_key", allowed="1..200 characters")

    def existing() -> int | None:
        with rt.db.read() as s:
            row = s.execute(select(Txn.id, Txn.request_hash).where(
                Txn.scope_account_id == scope_account_id, Txn.idempotency_key == key)).first()
        if row is None:
            return None
        if row.request_hash != digest:
            raise Conflict("idempotency_key_reused", f"idempotency_key {key!r} was used for a different request",
                           field="idempotency_key", allowed="a new key for a new request")
        return int(row.id)

    if (txn_id := existing()) is not None:
        return replay(txn_id)
    try:
        return action()
    except IntegrityError:
        # A concurrent request with the same key won the race; answer as it did.
        if (txn_id := existing()) is not None:
            return replay(txn_id)
        raise


def wallet_view(session: Session, account_id: int) -> WalletView:
    """An account's wallet as it is now; zeros for an account that has never held money."""
    wallet = session.scalar(select(Wallet).where(Wallet.account_id == account_id)
                            .execution_options(populate_existing=True))
    return WalletView.of(wallet, account_id)


def get_wallet(rt: Runtime, account_id: int, *, actor: Actor) -> WalletView:
    with rt.db.read() as s:
        require(s, actor, account_id, Capability.READ)
        return wallet_view(s, account_id)


def read_ledger(rt: Runtime, account_id: int, *, actor: Actor, limit: int = 100,
                before_id: int | None = None) -> list[EntryView]:
    """An account's entries, newest first; page with ``before_id``."""
    with rt.db.read() as s:
        require(s, actor, account_id, Capability.READ)
        stmt = (select(Entry, Txn).join(Txn, Txn.id == Entry.txn_id).join(Wallet, Wallet.id == Entry.wallet_id)
                .where(Wallet.account_id == account_id))
        if before_id is not None:
            stmt = stmt.where(Entry.id < before_id)
        rows = s.execute(stmt.order_by(Entry.id.desc()).limit(limit)).all()
        return [EntryView(e.id, t.id, t.kind, e.amount_fen, t.actor, t.created_at, t.memo) for e, t in rows]


@dataclass(frozen=True)
class LedgerCheck:
    """What an auditor checks: the books balance and every reservation is backed."""

    entries_sum_fen: int
    balances_sum_fen: int
    unbalanced_txns: int
    balance_mismatches: int


def check_books(rt: Runtime) -> LedgerCheck:
    with rt.db.read() as s:
        entries_sum = s.scalar(select(func.coalesce(func.sum(Entry.amount_fen), 0))) or 0
        balances_sum = s.scalar(select(func.coalesce(func.sum(Wallet.balance_fen), 0))) or 0
        unbalanced = s.scalar(select(func.count()).select_from(
            select(Entry.txn_id).group_by(Entry.txn_id).having(func.sum(Entry.amount_fen) != 0).subquery()))
        per_wallet = select(Entry.wallet_id, func.sum(Entry.amount_fen).label("total")).group_by(
            Entry.wallet_id).subquery()
        mismatches = s.scalar(select(func.count()).select_from(Wallet).outerjoin(
            per_wallet, per_wallet.c.wallet_id == Wallet.id).where(
            func.coalesce(per_wallet.c.total, 0) != Wallet.balance_fen))
        return LedgerCheck(int(entries_sum), int(balances_sum), int(unbalanced or 0), int(mismatches or 0))
