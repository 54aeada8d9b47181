"""Money between accounts: top-up, allocate down the KOB tree, reclaim, refund, and revocation.

Allocation goes from a parent to its direct, actively authorized child (a brand funds a store under a
distributor by acting on the distributor's wallet, which it controls). The rule for revocation:
the child's available delegated budget returns to the parent at once; delegated money still held in
open leases returns when each lease settles, up to what was outstanding at revocation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhongcao.accounts import (
    Actor,
    AuthorizationView,
    Capability,
    ancestors,
    get_authorization,
    record_audit,
    require,
    require_platform,
    revoke_authorization,
)
from zhongcao.billing.ledger import (
    PAYMENTS,
    WalletView,
    account_wallet_id,
    delegated_free,
    idempotent,
    insufficient,
    lock_wallets,
    own_free,
    post,
    request_hash,
    system_wallet_id,
    wallet_view,
)
from zhongcao.billing.models import Lease, Txn
from zhongcao.core import Conflict, Invalid, Runtime, require_positive_fen


@dataclass(frozen=True)
class Transfer:
    txn_id: int
    kind: str
    amount_fen: int
    from_wallet: WalletView | None
    to_wallet: WalletView | None
    replayed: bool = False


def _views(s: Session, *account_ids: int | None) -> list[WalletView | None]:
    return [None if account_id is None else wallet_view(s, account_id) for account_id in account_ids]


def _replay(rt: Runtime, from_account: int | None, to_account: int | None) -> Callable[[int], Transfer]:
    def replay(txn_id: int) -> Transfer:
        with rt.db.read() as s:
            txn = s.get(Txn, txn_id)
            assert txn is not None
            src, dst = _views(s, from_account, to_account)
            amount = int((txn.memo or {}).get("amount_fen", 0))
            return Transfer(txn_id, txn.kind, amount, src, dst, replayed=True)
    return replay


def do_top_up(rt: Runtime, account_id: int, amount_fen: int, *, idempotency_key: str | None,
              actor: Actor, memo: str = "") -> Transfer:
    """The operator records a payment received; the key makes a retried payment land once."""
    require_platform(actor, "record top-ups")
    require_positive_fen(amount_fen)
    if not idempotency_key:
        raise Invalid("idempotency_key_required", "a top-up records a payment and needs an idempotency_key",
                      field="idempotency_key", allowed="1..200 characters")
    digest = request_hash(op="top_up", account=account_id, amount=amount_fen)

    def action() -> Transfer:
        with rt.db.transaction() as s:
            require(s, actor, account_id, Capability.FINANCE)
            wallet_id = account_wallet_id(s, account_id)
            txn_id = post(rt, s, "top_up", {system_wallet_id(s, PAYMENTS): -amount_fen, wallet_id: amount_fen},
                          actor=actor, memo={"amount_fen": amount_fen, "note": memo[:200]},
                          scope_account_id=account_id, idempotency_key=idempotency_key, request_hash=digest)
            (view,) = _views(s, account_id)
            record_audit(s, rt, actor, account_id=account_id, action="wallet.top_up", target=f"txn:{txn_id}",
                         after={"balance_fen": view.balance_fen if view else 0, "amount_fen": amount_fen})
            return Transfer(txn_id, "top_up", amount_fen, None, view)

    return idempotent(rt, account_id, idempotency_key, digest, action, _replay(rt, None, account_id))


def _require_child(s: Session, parent_id: int, child_id: int) -> None:
    chain = ancestors(s, child_id)
    if not chain or chain[0] != parent_id:
        raise Conflict("not_authorized_sub_account",
                       f"account {child_id} is not an actively authorized sub-account of {parent_id}",
                       field="to_account_id", allowed="a direct sub-account with an active authorization")


def _move(rt: Runtime, s: Session, kind: str, src: int, dst: int, amount_fen: int, *, actor: Actor,
          key: str | None, digest: str | None, scope: int) -> Transfer:
    """Move available money between two account wallets, tracking the delegated part."""
    src_w, dst_w = account_wallet_id(s, src), account_wallet_id(s, dst)
    wallets = lock_wallets(rt, s, [src_w, dst_w])
    source, target = wallets[src_w], wallets[dst_w]
    available = source.balance_fen - source.reserved_fen
    if kind == "allocate":
        if amount_fen > available:
            raise insufficient("available to allocate", available)
    else:  # reclaim or revoke_return: only delegated money goes back up
        reclaimable = delegated_free(source)
        if amount_fen > reclaimable:
            raise insufficient("reclaimable (available and delegated)", reclaimable)
    before = {"from_balance_fen": source.balance_fen, "to_balance_fen": target.balance_fen}
    delegated = ({dst_w: {"delegated_fen": amount_fen}} if kind == "allocate"
                 else {src_w: {"delegated_fen": -amount_fen}})
    txn_id = post(rt, s, kind, {src_w: -amount_fen, dst_w: amount_fen}, actor=actor,
                  memo={"amount_fen": amount_fen, "from_account_id": src, "to_account_id": dst},
                  also=delegated, scope_account_id=scope, idempotency_key=key, request_hash=digest)
    src_view, dst_view = _views(s, src, dst)
    after = {"from_balance_fen": src_view.balance_fen if src_view else 0,
             "to_balance_fen": dst_view.balance_fen if dst_view else 0, "amount_fen": amount_fen}
    for account_id in (src, dst):
        record_audit(s, rt, actor, account_id=account_id, action=f"wallet.{kind}", target=f"txn:{txn_id}",
                     before=before, after=after)
    return Transfer(txn_id, kind, amount_fen, src_view, dst_view)


def do_allocate(rt: Runtime, brand_id: int, to_account_id: int, amount_fen: int, *, actor: Actor,
                idempotency_key: str | None = None) -> Transfer:
    require_positive_fen(amount_fen)
    digest = request_hash(op="allocate", src=brand_id, dst=to_account_id, amount=amount_fen)

    def action() -> Transfer:
        with rt.db.transaction() as s:
            require(s, actor, brand_id, Capability.FINANCE)
            _require_child(s, brand_id, to_account_id)
            return _move(rt, s, "allocate", brand_id, to_account_id, amount_fen, actor=actor,
                         key=idempotency_key, digest=digest, scope=brand_id)

    return idempotent(rt, brand_id, idempotency_key, digest, action, _replay(rt, brand_id, to_account_id))


def do_reclaim(rt: Runtime, brand_id: int, from_account_id: int, amount_fen: int, *, actor: Actor,
               idempotency_key: str | None = None) -> Transfer:
    require_positive_fen(amount_fen)
    digest = request_hash(op="reclaim", src=from_account_id, dst=brand_id, amount=amount_fen)

    def action() -> Transfer:
        with rt.db.transaction() as s:
            require(s, actor, brand_id, Capability.FINANCE)
            try:
                _require_child(s, brand_id, from_account_id)
            except Conflict as exc:
                exc.field = "from_account_id"
                raise
            return _move(rt, s, "reclaim", from_account_id, brand_id, amount_fen, actor=actor,
                         key=idempotency_key, digest=digest, scope=brand_id)

    return idempotent(rt, brand_id, idempotency_key, digest, action, _replay(rt, from_account_id, brand_id))


def do_refund(rt: Runtime, account_id: int, amount_fen: int, *, actor: Actor,
              idempotency_key: str | None = None) -> Transfer:
    """The operator pays an account's own (not delegated) available money back out of the platform."""
    require_platform(actor, "refund")
    require_positive_fen(amount_fen)
    digest = request_hash(op="refund", account=account_id, amount=amount_fen)

    def action() -> Transfer:
        with rt.db.transaction() as s:
            require(s, actor, account_id, Capability.FINANCE)
            wallet_id = account_wallet_id(s, account_id)
            wallet = lock_wallets(rt, s, [wallet_id])[wallet_id]
            own = own_free(wallet)
            if amount_fen > own:
                raise insufficient("refundable (available, not delegated)", max(own, 0))
            txn_id = post(rt, s, "refund", {wallet_id: -amount_fen, system_wallet_id(s, PAYMENTS): amount_fen},
                          actor=actor, memo={"amount_fen": amount_fen}, scope_account_id=account_id,
                          idempotency_key=idempotency_key, request_hash=digest)
            (view,) = _views(s, account_id)
            record_audit(s, rt, actor, account_id=account_id, action="wallet.refund", target=f"txn:{txn_id}",
                         before={"balance_fen": wallet.balance_fen + amount_fen},
                         after={"balance_fen": view.balance_fen if view else 0})
            return Transfer(txn_id, "refund", amount_fen, view, None)

    return idempotent(rt, account_id, idempotency_key, digest, action, _replay(rt, account_id, None))


@dataclass(frozen=True)
class Revocation:
    authorization: AuthorizationView
    returned_fen: int
    pending_return_fen: int  # delegated money in open leases, returned as they settle


def do_revoke_authorization(rt: Runtime, authorization_id: int, *, actor: Actor) -> Revocation:
    """Revoke a KOB authorization and return the sub-account's delegated budget, atomically."""
    with rt.db.transaction() as s:
        was_active = get_authorization(rt, authorization_id, actor=actor).status == "active"
        view = revoke_authorization(rt, authorization_id, actor=actor)
        if not was_active:  # a withdrawn invitation delegated nothing
            return Revocation(view, 0, 0)
        parent, child = view.parent_id, view.child_id
        child_w, parent_w = account_wallet_id(s, child), account_wallet_id(s, parent)
        open_leases = s.scalars(rt.db.for_update(select(Lease).where(
            Lease.wallet_id == child_w, Lease.state == "open").order_by(Lease.id))).all()
        wallet = lock_wallets(rt, s, [child_w, parent_w])[child_w]
        returned = delegated_free(wallet)
        if returned > 0:
            _move(rt, s, "revoke_return", child, parent, returned, actor=actor, key=None, digest=None,
                  scope=parent)
        left = wallet.delegated_fen
        pending = 0
        for lease in open_leases:
            share = min(left - pending, lease.amount_fen - lease.spent_fen)
            if share <= 0:
                break
            lease.return_to_wallet_id = parent_w
            lease.return_cap_fen = share
            pending += share
        return Revocation(view, returned, pending)
