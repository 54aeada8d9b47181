"""/v1 routes for wallets, the ledger, budget leases and pooled budgets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query

from zhongcao import billing
from zhongcao.api import schemas as s
from zhongcao.api.deps import RT, Who

router = APIRouter(prefix="/v1", tags=["billing"])
Limit = Annotated[int, Query(ge=1, le=1000)]


@router.get("/accounts/{account_id}/wallet")
def wallet(account_id: int, rt: RT, who: Who) -> billing.WalletView:
    return billing.get_wallet(rt, account_id, actor=who)


@router.get("/accounts/{account_id}/ledger")
def ledger(account_id: int, rt: RT, who: Who, limit: Limit = 100,
           before_id: int | None = None) -> list[billing.EntryView]:
    return billing.read_ledger(rt, account_id, actor=who, limit=limit, before_id=before_id)


@router.post("/accounts/{account_id}/wallet/top-ups", status_code=201)
def top_up(account_id: int, body: s.TopUp, rt: RT, who: Who) -> billing.Transfer:
    return billing.do_top_up(rt, account_id, body.amount_fen, idempotency_key=body.idempotency_key, actor=who,
                             memo=body.note)


@router.post("/accounts/{brand_id}/wallet/allocations", status_code=201)
def allocate(brand_id: int, body: s.Allocation, rt: RT, who: Who) -> billing.Transfer:
    return billing.do_allocate(rt, brand_id, body.to_account_id, body.amount_fen, actor=who,
                               idempotency_key=body.idempotency_key)


@router.post("/accounts/{brand_id}/wallet/reclaims", status_code=201)
def reclaim(brand_id: int, body: s.Reclaim, rt: RT, who: Who) -> billing.Transfer:
    return billing.do_reclaim(rt, brand_id, body.from_account_id, body.amount_fen, actor=who,
                              idempotency_key=body.idempotency_key)


@router.post("/accounts/{account_id}/wallet/refunds", status_code=201)
def refund(account_id: int, body: s.Money, rt: RT, who: Who) -> billing.Transfer:
    return billing.do_refund(rt, account_id, body.amount_fen, actor=who, idempotency_key=body.idempotency_key)


@router.post("/accounts/{account_id}/wallet/leases", status_code=201)
def reserve(account_id: int, body: s.LeaseCreate, rt: RT, who: Who) -> billing.LeaseView:
    return billing.do_reserve(rt, account_id, body.amount_fen, body.ttl_seconds, actor=who, holder=body.holder)


@router.get("/leases/{lease_id}")
def get_lease(lease_id: int, rt: RT, who: Who) -> billing.LeaseView:
    return billing.get_lease(rt, lease_id, actor=who)


@router.post("/leases/{lease_id}/commit")
def commit(lease_id: int, body: s.LeaseCommitBody, rt: RT, who: Who) -> billing.CommitResult:
    return billing.do_commit(rt, [billing.LeaseCommit(lease_id, body.spent_fen)], actor=who)


@router.post("/leases/commits")
def commit_batch(body: s.LeaseCommitBatch, rt: RT, who: Who) -> billing.CommitResult:
    """Many leases at once, all or nothing: the way a serving process flushes its spend."""
    return billing.do_commit(rt, [billing.LeaseCommit(c.lease_id, c.spent_fen) for c in body.commits], actor=who)


@router.post("/leases/{lease_id}/release")
def release(lease_id: int, rt: RT, who: Who,
            body: Annotated[s.LeaseRelease | None, Body()] = None) -> billing.LeaseView:
    return billing.do_release(rt, lease_id, actor=who, spent_fen=body.spent_fen if body else None)


@router.post("/accounts/{brand_id}/pools", status_code=201)
def create_pool(brand_id: int, body: s.PoolCreate, rt: RT, who: Who) -> billing.PoolView:
    return billing.do_create_pool(rt, brand_id, body.name, actor=who)


@router.get("/accounts/{brand_id}/pools")
def list_pools(brand_id: int, rt: RT, who: Who) -> list[billing.PoolView]:
    return billing.list_pools(rt, brand_id, actor=who)


@router.get("/pools/{pool_id}")
def get_pool(pool_id: int, rt: RT, who: Who) -> billing.PoolView:
    return billing.get_pool(rt, pool_id, actor=who)


@router.put("/pools/{pool_id}/members")
def set_pool_member(pool_id: int, body: s.PoolMemberSet, rt: RT, who: Who) -> billing.PoolView:
    return billing.do_set_pool_member(rt, pool_id, body.store_id, body.daily_cap_fen, actor=who)


@router.delete("/pools/{pool_id}/members/{store_id}")
def remove_pool_member(pool_id: int, store_id: int, rt: RT, who: Who) -> billing.PoolView:
    return billing.do_remove_pool_member(rt, pool_id, store_id, actor=who)


@router.post("/pools/{pool_id}/fundings", status_code=201)
def fund_pool(pool_id: int, body: s.Money, rt: RT, who: Who) -> billing.PoolView:
    return billing.do_fund_pool(rt, pool_id, body.amount_fen, actor=who, idempotency_key=body.idempotency_key)


@router.post("/pools/{pool_id}/drains", status_code=201)
def drain_pool(pool_id: int, body: s.Money, rt: RT, who: Who) -> billing.PoolView:
    return billing.do_drain_pool(rt, pool_id, body.amount_fen, actor=who, idempotency_key=body.idempotency_key)


@router.post("/pools/{pool_id}/leases", status_code=201)
def reserve_from_pool(pool_id: int, body: s.PoolLeaseCreate, rt: RT, who: Who) -> billing.LeaseView:
    return billing.do_reserve_from_pool(rt, pool_id, body.store_id, body.amount_fen, body.ttl_seconds, actor=who,
                                        holder=body.holder)
