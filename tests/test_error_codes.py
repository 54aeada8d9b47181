"""Every error code in the catalogue, provoked over HTTP: the right status, a problem body with the code,
the field and what is allowed, and no change to any state."""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from conftest import ADMIN_TOKEN, OP, Kob, authorize, certified
from zhongcao import accounts, billing
from zhongcao.accounts import Actor
from zhongcao.api import create_app
from zhongcao.core import CODES, Conflict, Invalid, NotFound, Runtime, ZhongcaoError

OPERATOR = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
# Fallbacks for failures no request can reach on purpose: framework refusals other than 404/405.
UNREACHABLE = {
    "http_error": "Starlette raises no other HTTPException for the routes we define",
    "invalid_event": "no route writes raw events yet; tests/test_events.py provokes it on the store",
    "invalid_scenario": "scenarios are read by the command line; tests/test_sim.py provokes it there",
    "invalid_counterfactual": "counterfactuals are the command line's; tests/test_sim.py provokes it there",
    "invalid_table": "no route writes side tables; the simulator's truth table is written in-process",
    "invalid_accounts_file": "account CSVs are the command line's; tests/test_market.py provokes it there",
    "escrow_short": "settlement pays only from what an escrow holds; tests/test_collaborations.py provokes it on "
                    "the billing slice",
}


@dataclass
class Ctx:
    client: TestClient
    rt: Runtime
    k: Kob
    keys: dict[int, dict[str, str]]

    def key(self, account_id: int) -> dict[str, str]:
        if account_id not in self.keys:
            key = accounts.do_create_api_key(self.rt, account_id, actor=OP).key
            self.keys[account_id] = {"Authorization": f"Bearer {key}"}
        return self.keys[account_id]

    def fingerprint(self) -> tuple[object, ...]:
        from zhongcao.accounts.models import Account, ApiKey, AuditEntry, Authorization, KosBinding, Member
        from zhongcao.ads.models import AdClick, CampaignRow, ConversionRow, UnitRow
        from zhongcao.billing.models import CapUsage, Entry, Lease, Pool, PoolMember, Wallet
        from zhongcao.content.models import Note
        from zhongcao.events.models import OutboxBatch

        with self.rt.db.read() as s:
            counts = tuple(s.scalar(select(func.count()).select_from(m)) for m in (
                Account, ApiKey, AuditEntry, Authorization, KosBinding, Member, Entry, Lease, Pool, PoolMember, Note,
                OutboxBatch, CampaignRow, UnitRow, AdClick, ConversionRow))
            wallets = tuple(s.execute(select(Wallet.id, Wallet.balance_fen, Wallet.reserved_fen,
                                             Wallet.delegated_fen).order_by(Wallet.id)).all())
            caps = tuple(s.execute(select(CapUsage.scope, CapUsage.used_fen).order_by(CapUsage.scope)).all())
            links = tuple(s.execute(select(Authorization.id, Authorization.status).order_by(Authorization.id)).all())
            certs = tuple(s.execute(select(Account.id, Account.certification).order_by(Account.id)).all())
            leases = tuple(s.execute(select(Lease.id, Lease.spent_fen, Lease.state).order_by(Lease.id)).all())
            notes = tuple(s.execute(select(Note.id, Note.status, Note.version).order_by(Note.id)).all())
        return counts, wallets, caps, links, certs, leases, notes, _commerce_state(self.rt), _market_state(self.rt)

    def refused(self, method: str, url: str, json: object = None,
                headers: dict[str, str] | None = None) -> httpx.Response:
        before = self.fingerprint()
        r = self.client.request(method, url, json=json, headers=OPERATOR if headers is None else headers)
        assert self.fingerprint() == before, f"{method} {url} was refused but changed state"
        return r


def _lease(c: Ctx, amount: int = 1_000, spent: int = 0) -> int:
    lease = billing.do_reserve(c.rt, c.k.stores[0], amount, 30, actor=OP)
    if spent:
        billing.do_commit(c.rt, [billing.LeaseCommit(lease.id, spent)], actor=OP)
    return lease.id


def _pool(c: Ctx) -> int:
    pool = billing.do_create_pool(c.rt, c.k.brand, "pool", actor=OP)
    billing.do_fund_pool(c.rt, pool.id, 10_000, actor=OP)
    billing.do_set_pool_member(c.rt, pool.id, c.k.stores[0], 1_000, actor=OP)
    return pool.id


def _distributor_chain(c: Ctx) -> int:
    """brand → distributor → d2 → d3: the fourth level, which can hold no one."""
    d2, d3 = certified(c.rt, "distributor", "D2"), certified(c.rt, "distributor", "D3")
    authorize(c.rt, c.k.distributor, d2)
    authorize(c.rt, d2, d3)
    return d3


def _cycle(c: Ctx) -> httpx.Response:
    top, below = certified(c.rt, "distributor", "X"), certified(c.rt, "distributor", "Y")
    authorize(c.rt, top, below)
    return c.refused("POST", f"/v1/accounts/{below}/authorizations", {"sub_account_id": top})


def _kos(c: Ctx, answer: str | None = None) -> int:
    binding = accounts.do_bind_kos(c.rt, c.k.brand, c.k.creator, actor=OP)
    if answer:
        accounts.do_answer_kos(c.rt, binding.id, answer == "accept", actor=OP)
    return binding.id


def _crash(c: Ctx) -> httpx.Response:
    def boom(*_: object, **__: object) -> None:
        raise RuntimeError("disk on fire")

    mp = pytest.MonkeyPatch()
    mp.setattr(billing, "get_wallet", boom)
    try:
        with TestClient(c.client.app, raise_server_exceptions=False) as crashing:
            before = c.fingerprint()
            r = crashing.get(f"/v1/accounts/{c.k.brand}/wallet", headers=OPERATOR)
            assert c.fingerprint() == before
            return r
    finally:
        mp.undo()


def _analyst(c: Ctx) -> dict[str, str]:
    member = accounts.do_add_member(c.rt, c.k.brand, "analyst", "analyst", actor=OP)
    key = accounts.do_create_api_key(c.rt, c.k.brand, member_id=member.id, actor=OP).key
    return {"Authorization": f"Bearer {key}"}


def _expired(c: Ctx) -> httpx.Response:
    lease = _lease(c)
    c.rt.clock.advance(timedelta(seconds=30 + c.rt.settings.lease_settle_grace_seconds))
    return c.refused("POST", f"/v1/leases/{lease}/commit", {"spent_fen": 10})


def _revoked(c: Ctx) -> int:
    auth = next(a for a in accounts.list_authorizations(c.rt, c.k.stores[2], actor=OP) if a.status == "active")
    billing.do_revoke_authorization(c.rt, auth.id, actor=OP)
    return auth.id


def _pending(c: Ctx) -> tuple[int, int]:
    free = certified(c.rt, "store", "free")
    return accounts.do_invite(c.rt, c.k.brand, free, actor=OP).id, free


def _kos_limit(c: Ctx) -> httpx.Response:
    c.rt.settings.kos_limit = 0
    return c.refused("POST", f"/v1/accounts/{c.k.brand}/kos", {"account_id": c.k.creator})


def _closed(c: Ctx) -> httpx.Response:
    lease = _lease(c)
    billing.do_release(c.rt, lease, actor=OP)
    return c.refused("POST", f"/v1/leases/{lease}/commit", {"spent_fen": 5})


def _duplicate(c: Ctx) -> httpx.Response:
    lease = _lease(c)
    return c.refused("POST", "/v1/leases/commits", {"commits": [{"lease_id": lease, "spent_fen": 1},
                                                                {"lease_id": lease, "spent_fen": 2}]})


def _kos_taken(c: Ctx) -> httpx.Response:
    _kos(c)
    return c.refused("POST", f"/v1/accounts/{c.k.other_brand}/kos", {"account_id": c.k.creator})


def _published(c: Ctx) -> int:
    from zhongcao.content import do_create_note

    return do_create_note(c.rt, c.k.stores[0], title="新品", body="好用", actor=OP).id


def _market_state(rt: Runtime) -> tuple[object, ...]:
    """Every marketplace row a refused request might touch."""
    from zhongcao.market.models import BriefRow, CollaborationRow, CreatorProfileRow

    with rt.db.read() as s:
        return (tuple(s.execute(select(BriefRow.id, BriefRow.status).order_by(BriefRow.id)).all()),
                tuple(s.execute(select(CollaborationRow.id, CollaborationRow.state, CollaborationRow.version,
                                       CollaborationRow.brand_rating, CollaborationRow.creator_rating)
                                .order_by(CollaborationRow.id)).all()),
                tuple(s.execute(select(CreatorProfileRow.creator_id, CreatorProfileRow.updated_at)).all()))


def _brief(c: Ctx, **over: object) -> int:
    from zhongcao import market

    now = c.rt.now()
    spec = {"title": "种草", "category": "skincare", "budget_fen": 200_000, "sample_required": False,
            "max_revisions": 0, "publish_from": now.isoformat(), "publish_to": (now + timedelta(days=7)).isoformat(),
            "evaluation_days": 7, **over}
    return market.do_create_brief(c.rt, c.k.brand, spec, actor=OP).id


def _deal(c: Ctx, until: str = "invited", **over: object) -> int:
    """A collaboration walked to ``until`` along the happy path."""
    from zhongcao import market

    deal = market.do_invite(c.rt, _brief(c, **over), c.k.creator, actor=OP).id
    steps = ["quote", "accept", "fund", "submit_draft", "approve", "publish", "settle"]
    targets = ["quoted", "accepted", "funded", "draft_submitted", "approved", "published", "settled"]
    for step, target in zip(steps, targets, strict=True):
        if market.get_collaboration(c.rt, deal, actor=OP).state == until:
            break
        if step == "settle":
            c.rt.clock.advance(timedelta(days=8))  # type: ignore[attr-defined]
        params: dict[str, object] = {"quote": {"quote_fen": 100_000}, "submit_draft": {"title": "实测", "body": "好用"}
                                     }.get(step, {})
        market.ACT[step](c.rt, deal, actor=OP, **params)
        assert market.get_collaboration(c.rt, deal, actor=OP).state == target
    return deal


def _step(c: Ctx, deal: int, action: str, body: object = None) -> httpx.Response:
    return c.refused("POST", f"/v1/collaborations/{deal}/{action}", body)


def _rated(c: Ctx) -> int:
    from zhongcao import market

    deal = _deal(c, "settled")
    market.do_rate(c.rt, deal, 5, actor=Actor.of_account(c.k.brand))
    return deal


def _second_application(c: Ctx) -> httpx.Response:
    from zhongcao import market

    brief = _brief(c, budget_fen=150_000)
    first = market.do_apply(c.rt, brief, c.k.creator, 100_000, actor=OP).id
    market.do_accept(c.rt, first, actor=OP)
    other = certified(c.rt, "creator", "达人 Two")
    second = market.do_apply(c.rt, brief, other, 100_000, actor=OP).id
    return _step(c, second, "accept")


MARKET: dict[str, tuple[int, Callable[[Ctx], httpx.Response]]] = {
    "brief_not_found": (404, lambda c: c.refused("GET", "/v1/briefs/999999")),
    "collaboration_not_found": (404, lambda c: c.refused("GET", "/v1/collaborations/999999")),
    "creator_profile_not_found": (404, lambda c: c.refused("GET", f"/v1/creators/{c.k.creator}")),
    "invalid_brief": (422, lambda c: c.refused("POST", "/v1/briefs", {
        "brand_id": c.k.brand, "title": "种草", "category": "skincare", "budget_fen": 100_000, "contract": "barter",
        "publish_from": "2026-03-02T00:00:00+08:00", "publish_to": "2026-03-09T00:00:00+08:00"})),
    "invalid_quote": (422, lambda c: _step(c, _deal(c), "quote", {"quote_fen": 999_999})),
    "invalid_draft": (422, lambda c: _step(c, _deal(c, "funded"), "submit_draft", {"title": " "})),
    "invalid_rating": (422, lambda c: _step(c, _deal(c, "settled"), "rate", {"rating": 9})),
    "invalid_creator_profile": (422, lambda c: c.refused("PUT", f"/v1/creators/{c.k.creator}/profile",
                                                         {"category": "cars!", "region": "上海"})),
    "invalid_discovery": (422, lambda c: c.refused("POST", "/v1/creators/search", {"sort": "random"})),
    "invalid_plan": (422, lambda c: c.refused("POST", "/v1/creators/plan", {"budget_fen": 100,
                                                                            "strategies": ["celebrity"]})),
    "invalid_collaboration_transition": (409, lambda c: _step(c, _deal(c), "accept")),
    "revision_limit_reached": (409, lambda c: _step(c, _deal(c, "draft_submitted"), "request_changes",
                                                     {"feedback": "再改改"})),
    "outside_publish_window": (409, lambda c: _step(
        c, _deal(c, "approved", publish_from=(c.rt.now() + timedelta(days=2)).isoformat(),
                 publish_to=(c.rt.now() + timedelta(days=9)).isoformat()), "publish")),
    "evaluation_not_over": (409, lambda c: _step(c, _deal(c, "published"), "settle")),
    "already_rated": (409, lambda c: c.refused("POST", f"/v1/collaborations/{_rated(c)}/rate", {"rating": 4},
                                               headers=c.key(c.k.brand))),
    "brief_closed": (409, lambda c: c.refused("POST", f"/v1/briefs/{_closed_brief(c)}/invitations",
                                              {"creator_id": c.k.creator})),
    "collaboration_exists": (409, lambda c: c.refused("POST", f"/v1/briefs/{_brief_with_invite(c)}/invitations",
                                                      {"creator_id": c.k.creator})),
    "brief_budget_exceeded": (409, _second_application),
}


def _closed_brief(c: Ctx) -> int:
    from zhongcao import market

    brief = _brief(c)
    market.do_close_brief(c.rt, brief, actor=OP)
    return brief


def _brief_with_invite(c: Ctx) -> int:
    from zhongcao import market

    brief = _brief(c)
    market.do_invite(c.rt, brief, c.k.creator, actor=OP)
    return brief


def _commerce_state(rt: Runtime) -> tuple[object, ...]:
    """Every commerce row that a refused request might touch: counts, stock and each status."""
    from zhongcao.commerce import models as m

    tables = [t for t in m.ProductRow.metadata.sorted_tables if t.name.startswith("commerce_")]
    with rt.db.read() as s:
        counts = tuple(s.scalar(select(func.count()).select_from(t)) for t in tables)
        states = tuple(tuple(s.execute(select(*cols).order_by(cols[0])).all()) for cols in (
            (m.ProductRow.id, m.ProductRow.stock), (m.OrderRow.id, m.OrderRow.status),
            (m.LiveSessionRow.id, m.LiveSessionRow.status, m.LiveSessionRow.pinned_product_id),
            (m.LeadRow.id, m.LeadRow.status), (m.VisitCodeRow.code, m.VisitCodeRow.redeemed_at),
            (m.ConversationRow.id, m.ConversationRow.consumer_messages, m.ConversationRow.account_messages,
             m.ConversationRow.seat_member_id, m.ConversationRow.seat_account_id)))
    return counts, states


def _product(c: Ctx, *, shop: bool = True, stock: int = 5) -> int:
    from zhongcao import commerce

    if shop:
        c.rt.settings.shop_min_followers = 0
        commerce.do_open_shop(c.rt, c.k.stores[0], followers=0, actor=OP)
    return commerce.do_create_product(c.rt, c.k.stores[0], name="面霜", price_fen=100, category="beauty", stock=stock,
                                      actor=OP).id


def _order(c: Ctx, *, pay: bool = False) -> int:
    from zhongcao import commerce
    from zhongcao.events import EventIds

    ids = EventIds(c.rt.clock)
    order = commerce.do_create_order(c.rt, ids, 5, [(_product(c), 1)], commerce.Source("search", "q"), actor=OP).id
    if pay:
        commerce.do_order_transition(c.rt, ids, order, "pay", actor=OP)
    return order


def _order_body(c: Ctx, product: int, **change: object) -> dict[str, object]:
    return {"consumer_id": 5, "items": [{"product_id": product, "qty": 1}], "source": {"kind": "search", "id": "q"},
            **change}


def _live(c: Ctx) -> int:
    from zhongcao import commerce

    return commerce.do_create_live(c.rt, c.k.stores[0], title="直播", product_ids=[], actor=OP).id


def _conversation(c: Ctx) -> int:
    from zhongcao import commerce
    from zhongcao.events import EventIds

    return commerce.do_open_conversation(c.rt, EventIds(c.rt.clock), 5, c.k.stores[0],
                                         commerce.Source("profile", str(c.k.stores[0])), actor=OP).id


def _lead(c: Ctx) -> int:
    from zhongcao import commerce
    from zhongcao.events import EventIds

    return commerce.do_lead_card(c.rt, EventIds(c.rt.clock), _conversation(c), "phone", "13800138000",
                                 actor=OP).lead_id


def _visit_code(c: Ctx, *, redeemed: bool = False, expired: bool = False) -> str:
    from zhongcao import commerce
    from zhongcao.events import EventIds

    commerce.do_set_poi(c.rt, c.k.stores[0], name="店", address="路 1 号", city="上海", lat=31.2, lng=121.4, actor=OP)
    code = commerce.do_issue_visit_code(c.rt, _conversation(c), actor=OP).code
    if redeemed:
        commerce.do_redeem_visit_code(c.rt, EventIds(c.rt.clock), code, actor=OP)
    if expired:
        c.rt.clock.advance(timedelta(days=c.rt.settings.visit_code_days, seconds=1))  # type: ignore[attr-defined]
    return code


def _late_refund(c: Ctx) -> httpx.Response:
    order = _order(c, pay=True)
    c.rt.clock.advance(timedelta(days=c.rt.settings.refund_days, seconds=1))  # type: ignore[attr-defined]
    return c.refused("POST", f"/v1/orders/{order}/refund")


COMMERCE: dict[str, tuple[int, Callable[[Ctx], httpx.Response]]] = {
    "product_not_found": (404, lambda c: c.refused("GET", "/v1/products/999999")),
    "order_not_found": (404, lambda c: c.refused("GET", "/v1/orders/999999")),
    "live_session_not_found": (404, lambda c: c.refused("GET", "/v1/live-sessions/999999")),
    "conversation_not_found": (404, lambda c: c.refused("GET", "/v1/conversations/999999")),
    "lead_not_found": (404, lambda c: c.refused("POST", "/v1/leads/999999/status", {"status": "contacted"})),
    "visit_code_not_found": (404, lambda c: c.refused("POST", "/v1/visit-codes/redeem", {"code": "NOPE2345"})),
    "invalid_product": (422, lambda c: c.refused("POST", "/v1/products", {
        "account_id": c.k.stores[0], "name": "x", "price_fen": 0, "category": "beauty", "stock": 1})),
    "invalid_order": (422, lambda c: c.refused("POST", "/v1/orders", _order_body(c, _product(c), items=[]))),
    "invalid_source": (422, lambda c: c.refused("POST", "/v1/orders", _order_body(
        c, _product(c), source={"kind": "tv", "id": 1}))),
    "invalid_live": (422, lambda c: c.refused("POST", "/v1/live-sessions", {"host_account_id": c.k.stores[0],
                                                                            "title": " "})),
    "invalid_message": (422, lambda c: c.refused("POST", f"/v1/conversations/{_conversation(c)}/messages",
                                                 {"sender": "bot", "text": "hi"})),
    "contact_info_not_allowed": (422, lambda c: c.refused("POST", f"/v1/conversations/{_conversation(c)}/messages",
                                                          {"sender": "consumer", "text": "电话 13800138000"})),
    "invalid_conversation": (422, lambda c: c.refused("POST", "/v1/conversations", {
        "consumer_id": 5, "account_id": c.k.agency, "origin": {"kind": "profile", "id": c.k.agency}})),
    "invalid_seat": (422, lambda c: c.refused("POST", f"/v1/conversations/{_conversation(c)}/assign", {})),
    "invalid_lead_card": (422, lambda c: c.refused("POST", f"/v1/conversations/{_conversation(c)}/lead-cards",
                                                   {"kind": "email", "value": "a@b.cn"})),
    "invalid_webhook": (422, lambda c: c.refused("PUT", f"/v1/accounts/{c.k.brand}/lead-webhook", {"url": "ftp://x"})),
    "invalid_poi": (422, lambda c: c.refused("PUT", f"/v1/accounts/{c.k.brand}/poi", {
        "name": "n", "address": "a", "city": "上海", "lat": 31.0, "lng": 121.0})),
    "invalid_push": (422, lambda c: c.refused("POST", f"/v1/accounts/{c.k.brand}/pushes",
                                              {"text": "上新", "audience": "everyone"})),
    "invalid_featured_note": (422, lambda c: c.refused("POST", f"/v1/accounts/{c.k.stores[0]}/featured-notes",
                                                       {"note_id": _published(c)})),
    "shop_not_eligible": (409, lambda c: c.refused("POST", f"/v1/accounts/{c.k.stores[0]}/shop")),
    "shop_not_open": (409, lambda c: c.refused("POST", "/v1/orders", _order_body(c, _product(c, shop=False)))),
    "out_of_stock": (409, lambda c: c.refused("POST", "/v1/orders", _order_body(
        c, (p := _product(c)), items=[{"product_id": p, "qty": 6}]))),
    "invalid_order_transition": (409, lambda c: c.refused("POST", f"/v1/orders/{_order(c)}/ship")),
    "refund_window_closed": (409, _late_refund),
    "live_not_started": (409, lambda c: c.refused("POST", f"/v1/live-sessions/{_live(c)}/viewers", {
        "consumer_id": 5, "source": {"kind": "search", "id": "直播"}})),
    "invalid_live_transition": (409, lambda c: c.refused("POST", f"/v1/live-sessions/{_live(c)}/end")),
    "invalid_lead_transition": (409, lambda c: c.refused("POST", f"/v1/leads/{_lead(c)}/status", {"status": "won"})),
    "store_not_located": (409, lambda c: c.refused("POST", f"/v1/conversations/{_conversation(c)}/visit-codes")),
    "visit_code_used": (409, lambda c: c.refused("POST", "/v1/visit-codes/redeem",
                                                 {"code": _visit_code(c, redeemed=True)})),
    "visit_code_expired": (409, lambda c: c.refused("POST", "/v1/visit-codes/redeem",
                                                    {"code": _visit_code(c, expired=True)})),
}


S = Callable[[Ctx], httpx.Response]
SCENARIOS: dict[str, tuple[int, S]] = {
    "invalid_request": (422, lambda c: c.refused("POST", f"/v1/accounts/{c.k.brand}/wallet/top-ups",
                                                 {"amount_fen": "1", "idempotency_key": "k"})),
    "route_not_found": (404, lambda c: c.refused("GET", "/v1/nowhere")),
    "method_not_allowed": (405, lambda c: c.refused("DELETE", f"/v1/accounts/{c.k.brand}/wallet")),
    "internal_error": (500, _crash),
    "unauthenticated": (401, lambda c: c.refused("GET", f"/v1/accounts/{c.k.brand}/wallet", headers={})),
    "invalid_api_key": (401, lambda c: c.refused("GET", f"/v1/accounts/{c.k.brand}/wallet",
                                                 headers={"Authorization": "Bearer zc_nope"})),
    "forbidden": (403, lambda c: c.refused("POST", f"/v1/accounts/{c.k.brand}/wallet/allocations",
                                           {"to_account_id": c.k.stores[0], "amount_fen": 1}, _analyst(c))),
    "operator_only": (403, lambda c: c.refused("POST", "/v1/accounts", {"kind": "brand", "name": "b"},
                                               c.key(c.k.brand))),
    "sub_account_only": (403, lambda c: c.refused("POST", f"/v1/authorizations/{_pending(c)[0]}/confirm",
                                                  headers=c.key(c.k.brand))),
    "kos_account_only": (403, lambda c: c.refused("POST", f"/v1/kos-bindings/{_kos(c)}/confirm",
                                                  headers=c.key(c.k.brand))),
    "account_not_found": (404, lambda c: c.refused("GET", "/v1/accounts/999999")),
    "authorization_not_found": (404, lambda c: c.refused("GET", "/v1/authorizations/999999")),
    "kos_binding_not_found": (404, lambda c: c.refused("POST", "/v1/kos-bindings/999999/confirm")),
    "agency_grant_not_found": (404, lambda c: c.refused("POST", "/v1/agency-grants/999999/revoke")),
    "api_key_not_found": (404, lambda c: c.refused("POST", "/v1/api-keys/999999/revoke")),
    "member_not_found": (404, lambda c: c.refused("POST", f"/v1/accounts/{c.k.brand}/api-keys", {"member_id": 99999})),
    "lease_not_found": (404, lambda c: c.refused("GET", "/v1/leases/999999")),
    "pool_not_found": (404, lambda c: c.refused("GET", "/v1/pools/999999")),
    "pool_member_not_found": (404, lambda c: c.refused("DELETE", f"/v1/pools/{_pool(c)}/members/{c.k.stores[1]}")),
    "invalid_name": (422, lambda c: c.refused("POST", "/v1/accounts", {"kind": "brand", "name": "   "})),
    "invalid_kind": (422, lambda c: c.refused("POST", "/v1/accounts", {"kind": "shop", "name": "s"})),
    "invalid_role": (422, lambda c: c.refused("POST", f"/v1/accounts/{c.k.brand}/members",
                                              {"name": "n", "role": "boss"})),
    "invalid_decision": (422, lambda c: c.refused("POST", f"/v1/accounts/{c.k.brand}/certification",
                                                  {"decision": "maybe"})),
    "invalid_amount": (422, lambda c: c.refused("POST", f"/v1/accounts/{c.k.brand}/wallet/allocations",
                                                {"to_account_id": c.k.stores[0], "amount_fen": 0})),
    "invalid_ttl": (422, lambda c: c.refused("POST", f"/v1/accounts/{c.k.stores[0]}/wallet/leases",
                                             {"amount_fen": 1, "ttl_seconds": 0})),
    "invalid_idempotency_key": (422, lambda c: c.refused(
        "POST", f"/v1/accounts/{c.k.brand}/wallet/allocations",
        {"to_account_id": c.k.stores[0], "amount_fen": 1, "idempotency_key": "x" * 201})),
    "idempotency_key_required": (422, lambda c: c.refused("POST", f"/v1/accounts/{c.k.brand}/wallet/top-ups",
                                                          {"amount_fen": 1, "idempotency_key": ""})),
    "invalid_scopes": (422, lambda c: c.refused("POST", f"/v1/accounts/{c.k.brand}/agency-grants",
                                                {"agency_id": c.k.agency, "scopes": ["manage"]})),
    "invalid_agency": (422, lambda c: c.refused("POST", f"/v1/accounts/{c.k.brand}/agency-grants",
                                                {"agency_id": c.k.stores[0], "scopes": ["read"]})),
    "invalid_parent_kind": (422, lambda c: c.refused("POST", f"/v1/accounts/{c.k.stores[0]}/authorizations",
                                                     {"sub_account_id": c.k.stores[1]})),
    "invalid_sub_account_kind": (422, lambda c: c.refused("POST", f"/v1/accounts/{c.k.brand}/authorizations",
                                                          {"sub_account_id": c.k.creator})),
    "invalid_kos_kind": (422, lambda c: c.refused("POST", f"/v1/accounts/{c.k.brand}/kos",
                                                  {"account_id": c.k.stores[0]})),
    "duplicate_lease": (422, _duplicate),
    "certification_not_requestable": (409, lambda c: c.refused(
        "POST", f"/v1/accounts/{c.k.stores[0]}/certification/request", headers=c.key(c.k.stores[0]))),
    "certification_already_decided": (409, lambda c: c.refused("POST", f"/v1/accounts/{c.k.stores[0]}/certification",
                                                               {"decision": "reject"})),
    "not_certified": (409, lambda c: c.refused("POST", f"/v1/accounts/{c.k.brand}/authorizations", {
        "sub_account_id": accounts.do_create_account(c.rt, "store", "uncertified", actor=OP).id})),
    "sub_account_already_authorized": (409, lambda c: c.refused(
        "POST", f"/v1/accounts/{c.k.other_brand}/authorizations", {"sub_account_id": c.k.stores[0]})),
    "authorization_pending": (409, lambda c: c.refused("POST", f"/v1/accounts/{c.k.brand}/authorizations",
                                                       {"sub_account_id": _pending(c)[1]})),
    "authorization_not_pending": (409, lambda c: c.refused("POST", f"/v1/authorizations/{_revoked(c)}/confirm")),
    "authorization_not_active": (409, lambda c: c.refused("POST", f"/v1/authorizations/{_revoked(c)}/revoke")),
    "kob_cycle": (409, _cycle),
    "kob_too_deep": (409, lambda c: c.refused("POST", f"/v1/accounts/{_distributor_chain(c)}/authorizations",
                                              {"sub_account_id": certified(c.rt, "store", "deep")})),
    "kos_limit_reached": (409, _kos_limit),
    "kos_already_bound": (409, _kos_taken),
    "kos_binding_not_pending": (409, lambda c: c.refused("POST", f"/v1/kos-bindings/{_kos(c, 'decline')}/confirm")),
    "not_authorized_sub_account": (409, lambda c: c.refused("POST", f"/v1/accounts/{c.k.brand}/wallet/allocations",
                                                            {"to_account_id": c.k.other_store, "amount_fen": 1})),
    "insufficient_funds": (409, lambda c: c.refused("POST", f"/v1/accounts/{c.k.brand}/wallet/allocations",
                                                    {"to_account_id": c.k.stores[0], "amount_fen": 10**9})),
    "idempotency_key_reused": (409, lambda c: c.refused("POST", f"/v1/accounts/{c.k.brand}/wallet/top-ups",
                                                        {"amount_fen": 2, "idempotency_key": "seed"})),
    "budget_cap_reached": (409, lambda c: c.refused("POST", f"/v1/pools/{_pool(c)}/leases",
                                                    {"store_id": c.k.stores[0], "amount_fen": 1_001})),
    "spent_decreased": (409, lambda c: c.refused("POST", f"/v1/leases/{_lease(c, spent=500)}/commit",
                                                 {"spent_fen": 400})),
    "lease_overspent": (409, lambda c: c.refused("POST", f"/v1/leases/{_lease(c)}/commit", {"spent_fen": 1_001})),
    "lease_closed": (409, _closed),
    "lease_expired": (409, _expired),
    "invalid_note": (422, lambda c: c.refused("POST", "/v1/notes", {"author_id": c.k.stores[0], "title": "t",
                                                                    "kind": "gif"})),
    "invalid_query": (422, lambda c: c.refused("GET", "/v1/search?q=%20%20")),
    "note_not_found": (404, lambda c: c.refused("GET", "/v1/notes/999999")),
    "invalid_engagement": (422, lambda c: c.refused("POST", f"/v1/notes/{_published(c)}/engagements",
                                                    {"consumer_id": 1, "kind": "dislike"})),
    "creator_not_found": (404, lambda c: c.refused("GET", f"/v1/creators/{c.k.agency}/stats")),
    "note_deleted": (409, lambda c: c.refused("POST", f"/v1/notes/{_deleted(c)}/status", {"status": "published"})),
    "campaign_not_found": (404, lambda c: c.refused("GET", "/v1/campaigns/999999")),
    "unit_not_found": (404, lambda c: c.refused("GET", "/v1/units/999999")),
    "creative_not_found": (404, lambda c: c.refused("POST", "/v1/ads/status", {"level": "creative", "ids": [999999],
                                                                               "status": "paused"})),
    "keyword_not_found": (404, lambda c: c.refused("PATCH", "/v1/keywords/999999", {"bid_fen": 100})),
    "invalid_campaign": (422, lambda c: c.refused("POST", "/v1/campaigns", {"account_id": c.k.stores[0], **SEEDING,
                                                                            "objective": "awareness"})),
    "invalid_daily_budget": (422, lambda c: c.refused("POST", "/v1/campaigns", {
        "account_id": c.k.stores[0], **SEEDING, "daily_budget_fen": 9_999})),
    "invalid_schedule": (422, lambda c: c.refused("POST", "/v1/campaigns", {"account_id": c.k.stores[0], **SEEDING,
                                                                            "dayparts": ["0" * 24] * 7})),
    "invalid_unit": (422, lambda c: _unit_request(c, note_ids=[])),
    "invalid_bid": (422, lambda c: _unit_request(c, bid_fen=1)),
    "invalid_targeting": (422, lambda c: _unit_request(c, targeting={"type": "advanced", "ages": ["0-99"]})),
    "invalid_keyword": (422, lambda c: _unit_request(c, keywords=[{"keyword": "口红"}])),
    "invalid_creative": (422, lambda c: _creative_request(c, {"kind": "landing_page"})),
    "invalid_status": (422, lambda c: c.refused("POST", "/v1/ads/status", {"level": "campaign", "ids": [_campaign(c)],
                                                                           "status": "archived"})),
    "note_not_promotable": (422, lambda c: _unit_request(c, note_ids=[999999])),
    "mixed_substituted_notes": (422, lambda c: c.refused("POST", "/v1/units", {
        "campaign_id": _campaign(c), "name": "u", "bid_fen": 100,
        "note_ids": [_published(c), _note_by(c, c.k.stores[1])]})),
    "invalid_click_id": (422, lambda c: c.refused("POST", "/v1/ad-clicks", {"click_id": "AAAA.BBBB"})),
    "invalid_report": (422, lambda c: c.refused("GET", f"/v1/reports?account_id={c.k.stores[0]}&range=forever")),
    "invalid_conversion": (422, lambda c: _postback(c, {"type": "refund"})),
    "invalid_signature": (401, lambda c: _postback(c, {}, sign=False)),
    "conversion_conflict": (409, lambda c: _postback(c, {"value_fen": 5}, first=True)),
    "plan_deleted": (409, lambda c: c.refused("PATCH", f"/v1/campaigns/{_deleted_campaign(c)}", {"name": "n"})),
    **COMMERCE,
    **MARKET,
}


def _creative_request(c: Ctx, component: dict[str, object]) -> httpx.Response:
    unit, note = _unit(c)
    return c.refused("POST", "/v1/creatives", {"unit_id": unit, "note_id": note, "component": component})


def _note_by(c: Ctx, author: int) -> int:
    from zhongcao.content import do_create_note

    return do_create_note(c.rt, author, title="别家", body="好用", actor=OP).id


SEEDING = {"name": "种草", "objective": "seeding", "placement": "feed", "bidding": "manual", "optimize_for": "click"}


def _campaign(c: Ctx, **change: object) -> int:
    from zhongcao import ads

    return ads.do_create_campaign(c.rt, c.k.stores[0], SEEDING | change, actor=OP).id


def _unit(c: Ctx) -> tuple[int, int]:
    from zhongcao import ads

    note = _published(c)
    return ads.do_create_unit(c.rt, _campaign(c), {"name": "u", "bid_fen": 100, "note_ids": [note]}, actor=OP).id, note


def _deleted_campaign(c: Ctx) -> int:
    from zhongcao import ads

    campaign = _campaign(c)
    ads.do_set_status(c.rt, "campaign", [campaign], "deleted", actor=OP)
    return campaign


def _unit_request(c: Ctx, **change: object) -> httpx.Response:
    return c.refused("POST", "/v1/units", {"campaign_id": _campaign(c), "name": "u", "bid_fen": 100,
                                           "note_ids": [_published(c)], **change})


def _postback(c: Ctx, change: dict[str, object], sign: bool = True, first: bool = False) -> httpx.Response:
    """A conversion postback for a signed click on a store's unit; ``first`` reports it once beforehand."""
    import json

    from zhongcao import ads
    from zhongcao.ads.clicks import ClickToken, load_secret
    from zhongcao.ads.clicks import sign as sign_click

    unit, note = _unit(c)
    view = ads.get_unit(c.rt, unit, actor=OP)
    token = ClickToken(1, 5, view.campaign_id, unit, 1, note, 0, 30, int(c.rt.now().timestamp()), 1, 1)
    secret = ads.do_issue_conversion_secret(c.rt, c.k.stores[0], actor=OP).secret
    payload = {"click_id": sign_click(token, load_secret(c.rt)), "type": "order", "value_fen": 100, "external_id": "o1"}

    def send(extra: dict[str, object], signed: bool) -> httpx.Response:
        body = json.dumps(payload | extra).encode()
        headers = {"X-Zhongcao-Signature": ads.sign_body(body, secret)} if signed else {}
        return c.client.post("/v1/conversions", content=body, headers=headers)

    if first:
        assert send({}, True).status_code == 201
    before = c.fingerprint()
    r = send(change, sign)
    assert c.fingerprint() == before, "a refused postback changed state"
    return r


def _deleted(c: Ctx) -> int:
    from zhongcao.content import do_set_note_status

    return do_set_note_status(c.rt, _published(c), "deleted", actor=OP).id


@pytest.fixture
def ctx(rt: Runtime, kob: Kob) -> Iterator[Ctx]:
    billing.do_top_up(rt, kob.brand, 1_000_000, idempotency_key="seed", actor=OP)
    billing.do_allocate(rt, kob.brand, kob.stores[0], 100_000, actor=Actor.of_account(kob.brand))
    with TestClient(create_app(rt, money_jobs=False)) as client:
        yield Ctx(client, rt, kob, {})


def test_every_catalogued_code_has_a_scenario() -> None:
    assert set(SCENARIOS) | set(UNREACHABLE) == set(CODES)


@pytest.mark.parametrize("code", sorted(SCENARIOS))
def test_error_code(ctx: Ctx, code: str) -> None:
    status, scenario = SCENARIOS[code]
    r = scenario(ctx)
    body = r.json()
    assert (r.status_code, body["code"], body["status"]) == (status, code, status), body
    assert r.headers["content-type"] == "application/problem+json"
    assert body["type"].endswith(code)
    assert body["detail"]
    if status in (409, 422):
        assert body["field"], body
        assert body.get("allowed") is not None or code in {"sub_account_already_authorized", "kob_cycle",
                                                           "authorization_pending", "kos_already_bound"}, body


def test_the_catalogue_is_served(ctx: Ctx) -> None:
    assert ctx.client.get("/v1/problems").json() == CODES


@pytest.mark.parametrize("error", [
    Invalid("invalid_scenario", "consumers is 5", field="consumers", allowed="1000..2000000"),
    NotFound("note", 3),
    Conflict("budget_cap_reached", "no room", field="amount_fen", allowed="at most 0 fen", extra={"state": "x"})])
def test_a_refusal_crosses_a_process_boundary_whole(error: ZhongcaoError) -> None:
    """A simulation run in a worker process refuses in the parent as it would have in-process."""
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error)
    assert str(back) == str(error)
    assert back.to_problem() == error.to_problem()
