"""Escrow: money a payer has committed to a deal and no longer controls, held in a system wallet of its own
(``escrow:<ref>``) until the deal settles.

The marketplace prepays creator deals this way (FIELD_FACTS §4: the brand must prepay). These functions
work inside the caller's transaction, because the deal's state and its money must change together: the
caller locks its deal row first, so one escrow is only ever touched by one transaction at a time, and
its balance may be read without a lock. Settlement empties the escrow in one balanced transaction,
so a second settlement finds nothing to pay out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhongcao.accounts import Actor, record_audit
from zhongcao.billing.ledger import (
    FEES,
    account_wallet_id,
    account_wallet_ids,
    delegated_free,
    insufficient,
    lock_wallets,
    post,
    system_wallet_id,
)
from zhongcao.billing.models import Wallet
from zhongcao.core import Conflict, Runtime, require_positive_fen


@dataclass(frozen=True)
class EscrowSettlement:
    txn_id: int | None
    held_fen: int
    paid_fen: dict[int, int]  # payee account → fen
    fee_fen: int
    refunded_fen: int


def escrow_key(ref: str) -> str:
    return f"escrow:{ref}"


def escrow_held(session: Session, ref: str) -> int:
    balance = session.scalar(select(Wallet.balance_fen).where(Wallet.system_key == escrow_key(ref))
                             .execution_options(populate_existing=True))
    return int(balance or 0)


def fund_escrow_in(rt: Runtime, s: Session, payer_id: int, ref: str, amount_fen: int, *, actor: Actor,
                   memo: Mapping[str, object]) -> int:
    """Move ``amount_fen`` of the payer's available money into the escrow; returns the transaction id.
    Delegated (KOB) money is drawn first, as ad spend draws it."""
    require_positive_fen(amount_fen)
    payer_w = account_wallet_id(s, payer_id)
    escrow_w = system_wallet_id(s, escrow_key(ref))
    wallet = lock_wallets(rt, s, [payer_w])[payer_w]
    available = wallet.balance_fen - wallet.reserved_fen
    if amount_fen > available:
        raise insufficient("available to fund the escrow", available)
    before = wallet.balance_fen
    drawn_delegated = min(delegated_free(wallet), amount_fen)
    txn_id = post(rt, s, "escrow_fund", {payer_w: -amount_fen, escrow_w: amount_fen}, actor=actor,
                  memo={"amount_fen": amount_fen, "escrow": ref, **memo},
                  also={payer_w: {"delegated_fen": -drawn_delegated}}, scope_account_id=payer_id)
    record_audit(s, rt, actor, account_id=payer_id, action="wallet.escrow_fund", target=f"txn:{txn_id}",
                 before={"balance_fen": before}, after={"balance_fen": before - amount_fen, "escrow": ref})
    return txn_id


def settle_escrow_in(rt: Runtime, s: Session, ref: str, *, payouts: Mapping[int, int], fee_fen: int,
                     refund_to: int, actor: Actor, memo: Mapping[str, object]) -> EscrowSettlement:
    """Empty the escrow: each payee gets its payout, the platform its fee, and the rest goes back to
    ``refund_to``. Refused, changing nothing, when payouts and fee exceed what is held."""
    held = escrow_held(s, ref)
    paid = {a: int(f) for a, f in sorted(payouts.items()) if f}
    if any(f < 0 for f in paid.values()) or fee_fen < 0:
        raise Conflict("escrow_short", "an escrow pays out only non-negative amounts", field="payouts",
                       allowed="fen ≥ 0")
    refund = held - sum(paid.values()) - fee_fen
    if refund < 0:
        raise Conflict("escrow_short", f"the escrow holds {held} fen, less than the {held - refund} fen to pay out",
                       field="payouts", allowed=f"at most {held} fen in all")
    if held == 0:
        return EscrowSettlement(None, 0, {}, 0, 0)
    escrow_w = system_wallet_id(s, escrow_key(ref))
    moves: dict[int, int] = {escrow_w: -held}
    accounts = account_wallet_ids(s, {*paid, refund_to})
    lock_wallets(rt, s, list(accounts.values()))
    for account, fen in paid.items():
        moves[accounts[account]] = moves.get(accounts[account], 0) + fen
    if refund:
        moves[accounts[refund_to]] = moves.get(accounts[refund_to], 0) + refund
    if fee_fen:
        moves[system_wallet_id(s, FEES)] = fee_fen
    txn_id = post(rt, s, "escrow_settle", moves, actor=actor,
                  memo={"escrow": ref, "held_fen": held, "fee_fen": fee_fen, "refunded_fen": refund,
                        "paid_fen": {str(a): f for a, f in paid.items()}, **memo})
    for account in sorted({*paid, *([refund_to] if refund else [])}):
        record_audit(s, rt, actor, account_id=account, action="wallet.escrow_settle", target=f"txn:{txn_id}",
                     after={"escrow": ref, "received_fen": paid.get(account, 0) + (refund if account == refund_to
                                                                                     else 0)})
    return EscrowSettlement(txn_id, held, paid, fee_fen, refund)
