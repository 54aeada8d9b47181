"""Pooled budget: one brand budget that several stores draw on, each under its own daily cap.

No platform offers this (FIELD_FACTS §3). The pool is a wallet of its own, funded from the brand's;
stores spend from it only through leases, and each lease counts against the store's cap for the day,
so no store can exceed its cap and the pool, like every wallet, can never go negative.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from zhongcao.accounts import (
    AccountKind,
    Actor,
    Capability,
    ancestors,
    clean_name,
    get_account,
    record_audit,
    require,
    require_owner,
)
from zhongcao.billing.leases import BudgetCap, LeaseView, reserve_in
from zhongcao.billing.ledger import (
    WalletView,
    account_wallet_id,
    idempotent,
    insufficient,
    lock_wallets,
    post,
    request_hash,
)
from zhongcao.billing.models import CapUsage, Pool, PoolMember, Wallet
from zhongcao.core import Conflict, Invalid, NotFound, Runtime, require_positive_fen


@dataclass(frozen=True)
class PoolMemberView:
    store_id: int
    daily_cap_fen: int
    used_today_fen: int


@dataclass(frozen=True)
class PoolView:
    id: int
    brand_id: int
    name: str
    wallet: WalletView
    members: list[PoolMemberView]


def cap_scope(pool_id: int, store_id: int) -> str:
    return f"pool:{pool_id}:store:{store_id}"


def _view(rt: Runtime, s: Session, pool: Pool) -> PoolView:
    wallet = s.get(Wallet, pool.wallet_id, populate_existing=True)
    members = s.scalars(select(PoolMember).where(PoolMember.pool_id == pool.id).order_by(PoolMember.store_id))
    today = rt.today()
    views = []
    for m in members:
        used = s.scalar(select(CapUsage.used_fen).where(CapUsage.scope == cap_scope(pool.id, m.store_id),
                                                        CapUsage.day == today)) or 0
        views.append(PoolMemberView(m.store_id, m.daily_cap_fen, used))
    return PoolView(pool.id, pool.brand_id, pool.name, WalletView.of(wallet, None), views)


def _load(s: Session, actor: Actor, pool_id: int, capability: Capability) -> Pool:
    pool = s.get(Pool, pool_id)
    if pool is None:
        raise NotFound("pool", pool_id)
    require_owner(s, actor, pool.brand_id, capability, "pool", pool_id)
    return pool


def do_create_pool(rt: Runtime, brand_id: int, name: str, *, actor: Actor) -> PoolView:
    with rt.db.transaction() as s:
        brand = require(s, actor, brand_id, Capability.FINANCE)
        if brand.kind != AccountKind.BRAND.value:
            raise Invalid("invalid_parent_kind", "only a brand owns a budget pool", field="brand_id",
                          allowed=[AccountKind.BRAND.value])
        wallet = Wallet(system_key=f"pool:{secrets.token_hex(8)}", external=False, balance_fen=0, reserved_fen=0,
                        delegated_fen=0)
        s.add(wallet)
        s.flush()
        pool = Pool(brand_id=brand_id, name=clean_name(name), wallet_id=wallet.id, created_at=rt.now())
        s.add(pool)
        s.flush()
        record_audit(s, rt, actor, account_id=brand_id, action="pool.create", target=f"pool:{pool.id}",
                     after={"name": pool.name})
        return _view(rt, s, pool)


def do_set_pool_member(rt: Runtime, pool_id: int, store_id: int, daily_cap_fen: int, *,
                       actor: Actor) -> PoolView:
    """Add a store to the pool, or change its daily cap; it must be in the brand's active KOB tree."""
    require_positive_fen(daily_cap_fen, "daily_cap_fen")
    with rt.db.transaction() as s:
        pool = _load(s, actor, pool_id, Capability.FINANCE)
        if pool.brand_id not in ancestors(s, store_id):
            raise Conflict("not_authorized_sub_account", f"account {store_id} is not in the brand's KOB tree",
                           field="store_id", allowed="an actively authorized sub-account of the brand")
        member = s.get(PoolMember, (pool_id, store_id))
        before = {"daily_cap_fen": member.daily_cap_fen} if member else None
        if member is None:
            s.add(PoolMember(pool_id=pool_id, store_id=store_id, daily_cap_fen=daily_cap_fen))
        else:
            member.daily_cap_fen = daily_cap_fen
        s.flush()
        record_audit(s, rt, actor, account_id=pool.brand_id, action="pool.set_member",
                     target=f"pool:{pool_id}/store:{store_id}", before=before, after={"daily_cap_fen": daily_cap_fen})
        return _view(rt, s, pool)


def do_remove_pool_member(rt: Runtime, pool_id: int, store_id: int, *, actor: Actor) -> PoolView:
    """Open leases stay valid until they settle; the store cannot take new ones."""
    with rt.db.transaction() as s:
        pool = _load(s, actor, pool_id, Capability.FINANCE)
        removed = s.execute(delete(PoolMember).where(PoolMember.pool_id == pool_id, PoolMember.store_id == store_id))
        if not removed.rowcount:  # type: ignore[attr-defined]
            raise NotFound("pool_member", store_id)
        record_audit(s, rt, actor, account_id=pool.brand_id, action="pool.remove_member",
                     target=f"pool:{pool_id}/store:{store_id}")
        return _view(rt, s, pool)


def _pool_transfer(rt: Runtime, pool_id: int, amount_fen: int, *, fund: bool, actor: Actor,
                   idempotency_key: str | None) -> PoolView:
    require_positive_fen(amount_fen)
    op = "pool_fund" if fund else "pool_drain"
    digest = request_hash(op=op, pool=pool_id, amount=amount_fen)
    with rt.db.read() as s:
        brand_id = _load(s, actor, pool_id, Capability.FINANCE).brand_id

    def action() -> PoolView:
        with rt.db.transaction() as s:
            pool = _load(s, actor, pool_id, Capability.FINANCE)
            brand_w = account_wallet_id(s, pool.brand_id)
            src, dst = (brand_w, pool.wallet_id) if fund else (pool.wallet_id, brand_w)
            source = lock_wallets(rt, s, [brand_w, pool.wallet_id])[src]
            available = source.balance_fen - source.reserved_fen
            if amount_fen > available:
                raise insufficient("available", available)
            txn_id = post(rt, s, op, {src: -amount_fen, dst: amount_fen}, actor=actor,
                          memo={"amount_fen": amount_fen, "pool_id": pool_id}, scope_account_id=pool.brand_id,
                          idempotency_key=idempotency_key, request_hash=digest)
            view = _view(rt, s, pool)
            record_audit(s, rt, actor, account_id=pool.brand_id, action=f"pool.{'fund' if fund else 'drain'}",
                         target=f"txn:{txn_id}", after={"pool_balance_fen": view.wallet.balance_fen})
            return view

    def replay(_txn_id: int) -> PoolView:
        with rt.db.read() as s:
            pool = s.get(Pool, pool_id)
            assert pool is not None
            return _view(rt, s, pool)

    return idempotent(rt, brand_id, idempotency_key, digest, action, replay)


def do_fund_pool(rt: Runtime, pool_id: int, amount_fen: int, *, actor: Actor,
                 idempotency_key: str | None = None) -> PoolView:
    return _pool_transfer(rt, pool_id, amount_fen, fund=True, actor=actor, idempotency_key=idempotency_key)


def do_drain_pool(rt: Runtime, pool_id: int, amount_fen: int, *, actor: Actor,
                  idempotency_key: str | None = None) -> PoolView:
    return _pool_transfer(rt, pool_id, amount_fen, fund=False, actor=actor, idempotency_key=idempotency_key)


def do_reserve_from_pool(rt: Runtime, pool_id: int, store_id: int, amount_fen: int, ttl_seconds: int, *,
                         actor: Actor, holder: str = "", caps: tuple[BudgetCap, ...] = ()) -> LeaseView:
    with rt.db.transaction() as s:
        require(s, actor, store_id, Capability.OPERATE)
        pool = s.get(Pool, pool_id)
        member = s.get(PoolMember, (pool_id, store_id)) if pool else None
        if pool is None or member is None:
            raise NotFound("pool", pool_id)
        if pool.brand_id not in ancestors(s, store_id):
            raise Conflict("not_authorized_sub_account", f"account {store_id} is no longer in the brand's KOB tree",
                           field="store_id", allowed="an actively authorized sub-account of the brand")
        cap = BudgetCap(cap_scope(pool_id, store_id), member.daily_cap_fen)
        return reserve_in(rt, s, pool.wallet_id, store_id, amount_fen, ttl_seconds, caps=(cap, *caps),
                          holder=holder, actor=actor)


def get_pool(rt: Runtime, pool_id: int, *, actor: Actor) -> PoolView:
    with rt.db.read() as s:
        return _view(rt, s, _load(s, actor, pool_id, Capability.READ))


def list_pools(rt: Runtime, brand_id: int, *, actor: Actor) -> list[PoolView]:
    get_account(rt, brand_id, actor=actor)
    with rt.db.read() as s:
        return [_view(rt, s, p) for p in s.scalars(select(Pool).where(Pool.brand_id == brand_id).order_by(Pool.id))]
