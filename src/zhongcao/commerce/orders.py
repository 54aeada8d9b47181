"""Cart and orders in the shop, and the order's life: created → paid → shipped → completed, with refunds
inside the refund window and cancellation of orders left unpaid.

Stock is taken when the order is created, by one conditional UPDATE per product (``stock >= qty``), in
product-id order. The database serializes those updates on the row, so no interleaving of buyers can take
more than there is, on SQLite or PostgreSQL, and locks are taken in one global order. A cancelled order,
and a refund before shipping, puts its stock back.

Consumers act through the platform's app: placing, paying, cancelling and confirming receipt are the
platform's calls (an operator or system actor) on a consumer's behalf; shipping is the seller's, and a
refund is the seller's or the platform's (for the consumer).
Every order keeps its source (note, ad click, live room, search, profile, push) for attribution, and emits
``order`` (``live_order`` from a live room), ``order_paid`` and ``refund`` events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from zhongcao.accounts import Actor, Capability, kind_of, record_audit, require_owner, require_platform
from zhongcao.commerce.models import (
    CartItemRow,
    LiveProductRow,
    LiveSessionRow,
    LiveViewerRow,
    OrderItemRow,
    OrderRow,
    ProductRow,
    ShopRow,
)
from zhongcao.commerce.record import emit
from zhongcao.commerce.sources import Source
from zhongcao.core import Conflict, Invalid, NotFound, Runtime
from zhongcao.events import EventIds, EventKind

MAX_ITEMS, MAX_QTY = 50, 999
# Which statuses each action starts from.
FROM = {"pay": ("created",), "ship": ("paid",), "complete": ("shipped",), "refund": ("paid", "shipped", "completed"),
        "cancel": ("created",)}


@dataclass(frozen=True)
class OrderItem:
    product_id: int
    qty: int
    price_fen: int


@dataclass(frozen=True)
class OrderView:
    id: int
    consumer_id: int
    seller_id: int
    status: str
    total_fen: int
    items: list[OrderItem]
    source: dict[str, object]
    created_at: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    completed_at: datetime | None
    closed_at: datetime | None


def _view(row: OrderRow, items: Sequence[OrderItemRow]) -> OrderView:
    return OrderView(row.id, row.consumer_id, row.seller_id, row.status, row.total_fen,
                     [OrderItem(i.product_id, i.qty, i.price_fen) for i in items], Source.of(row).view(),
                     row.created_at, row.paid_at, row.shipped_at, row.completed_at, row.closed_at)


def seller_columns(kind: str, account_id: int) -> dict[str, int]:
    """Where an event names the account that sold, hosted or answered."""
    column = {"brand": "brand_id", "distributor": "brand_id", "store": "store_id"}.get(kind, "creator_id")
    return {column: account_id}


def _items(items: Sequence[tuple[int, int]]) -> dict[int, int]:
    if not 1 <= len(items) <= MAX_ITEMS:
        raise Invalid("invalid_order", "an order has 1 to 50 items", field="items", allowed=f"1..{MAX_ITEMS} items")
    out: dict[int, int] = {}
    for product, qty in items:
        if product in out:
            raise Invalid("invalid_order", f"product {product} is listed twice", field="items.product_id",
                          allowed="each product once, with its qty")
        if not 1 <= qty <= MAX_QTY:
            raise Invalid("invalid_order", f"qty {qty} is out of range", field="items.qty", allowed=f"1..{MAX_QTY}")
        out[product] = qty
    return out


def do_create_order(rt: Runtime, ids: EventIds, consumer_id: int, items: Sequence[tuple[int, int]], source: Source,
                    *, actor: Actor) -> OrderView:
    require_platform(actor, "place an order for a consumer")
    wanted = _items(items)
    with rt.db.transaction() as s:
        products = {p.id: p for p in s.execute(select(ProductRow.id, ProductRow.account_id, ProductRow.price_fen,
                                                      ProductRow.stock).where(ProductRow.id.in_(list(wanted))))}
        for product in wanted:
            if product not in products:
                raise NotFound("product", product)
        sellers = {p.account_id for p in products.values()}
        if len(sellers) > 1:
            raise Invalid("invalid_order", "an order buys from one seller; split it per shop", field="items",
                          allowed="products of one seller")
        seller = sellers.pop()
        if s.scalar(select(ShopRow.account_id).where(ShopRow.account_id == seller)) is None:
            raise Conflict("shop_not_open", f"account {seller} has no open shop", field="items",
                           allowed="products of an account with an open shop")
        if source.live_id is not None:
            _check_live(s, source.live_id, list(wanted))
            source = _entered_through(s, source, consumer_id)
        for product in sorted(wanted):
            taken = s.execute(update(ProductRow).where(ProductRow.id == product, ProductRow.stock >= wanted[product])
                              .values(stock=ProductRow.stock - wanted[product])).rowcount  # type: ignore[attr-defined]
            if taken != 1:
                raise Conflict("out_of_stock", f"product {product} has fewer than {wanted[product]} units left",
                               field="items.qty", allowed=f"at most {products[product].stock}")
        total = sum(products[p].price_fen * q for p, q in wanted.items())
        now = rt.now()
        order_id = s.execute(insert(OrderRow).values(
            consumer_id=consumer_id, seller_id=seller, status="created", total_fen=total, created_at=now,
            **source.columns()).returning(OrderRow.id)).scalar_one()
        lines = [OrderItem(p, q, products[p].price_fen) for p, q in sorted(wanted.items())]
        s.execute(insert(OrderItemRow), [{"order_id": order_id, **asdict(line)} for line in lines])
        s.execute(delete(CartItemRow).where(CartItemRow.consumer_id == consumer_id,  # bought: out of the cart
                                            CartItemRow.product_id.in_(list(wanted))))
        emit(s, rt, ids, EventKind.LIVE_ORDER if source.kind == "live" else EventKind.ORDER,
             consumer_id=consumer_id, order_id=order_id, value_fen=total, quantity=sum(wanted.values()),
             product_id=lines[0].product_id, **source.event(), **seller_columns(account_kind(s, seller), seller))
    return OrderView(order_id, consumer_id, seller, "created", total, lines, source.view(), now, None, None,
                     None, None)


def account_kind(s: Session, account_id: int) -> str:
    kind = kind_of(s, account_id)
    if kind is None:
        raise NotFound("account", account_id)
    return kind


def _check_live(s: Session, live_id: int, products: list[int]) -> None:
    session = s.get(LiveSessionRow, live_id)
    assert session is not None  # the source was resolved
    if session.status == "scheduled":
        raise Conflict("live_not_started", f"live session {live_id} has not started", field="source.id",
                       allowed="a live session that is live or has ended (replay)")
    linked = set(s.scalars(select(LiveProductRow.product_id).where(LiveProductRow.live_id == live_id)))
    if not set(products) <= linked:
        raise Invalid("invalid_source", "a live order buys products linked in that live session",
                      field="items.product_id", allowed=sorted(linked))


def _entered_through(s: Session, source: Source, consumer_id: int) -> Source:
    """A live order carries what brought its buyer into the room (their latest entry): an ad click or a
    note there is what the order attributes to."""
    entry = s.scalar(select(LiveViewerRow).where(LiveViewerRow.session_id == source.live_id,
                                                 LiveViewerRow.consumer_id == consumer_id)
                     .order_by(LiveViewerRow.joined_at.desc(), LiveViewerRow.id.desc()).limit(1))
    if entry is None or entry.note_id is None:
        return source
    return replace(source, note_id=entry.note_id, campaign_id=entry.campaign_id, unit_id=entry.unit_id,
                   creative_id=entry.creative_id)


def get_order(rt: Runtime, order_id: int, *, actor: Actor) -> OrderView:
    """The seller's side and the platform see an order; anyone else gets the unknown-id answer."""
    with rt.db.read() as s:
        row = s.get(OrderRow, order_id)
        if row is None:
            raise NotFound("order", order_id)
        require_owner(s, actor, row.seller_id, Capability.READ, "order", order_id)
        return _view(row, s.scalars(select(OrderItemRow).where(OrderItemRow.order_id == order_id)).all())


def _restock(s: Session, order_id: int) -> None:
    for item in s.scalars(select(OrderItemRow).where(OrderItemRow.order_id == order_id)
                          .order_by(OrderItemRow.product_id)):
        s.execute(update(ProductRow).where(ProductRow.id == item.product_id)
                  .values(stock=ProductRow.stock + item.qty))


def do_transition(rt: Runtime, ids: EventIds, order_id: int, action: str, *, actor: Actor) -> OrderView:
    """Pay, ship, complete, refund or cancel an order; from any other status it is refused unchanged."""
    if action not in FROM:
        raise ValueError(action)
    with rt.db.transaction() as s:
        row = s.get(OrderRow, order_id, with_for_update=True)
        if row is None:
            raise NotFound("order", order_id)
        if action in ("ship", "refund"):  # the seller ships; it or the consumer (through the app) refunds
            require_owner(s, actor, row.seller_id, Capability.OPERATE, "order", order_id)
        else:
            require_owner(s, actor, row.seller_id, Capability.READ, "order", order_id)
            require_platform(actor, f"{action} an order for its consumer")
        if row.status not in FROM[action]:
            raise Conflict("invalid_order_transition", f"a {row.status} order cannot take {action!r}",
                           field="status", allowed=list(FROM[action]))
        now = rt.now()
        if action == "pay" and now > row.created_at + timedelta(minutes=rt.settings.order_pay_minutes):
            raise Conflict("invalid_order_transition", "the order was left unpaid too long and is being cancelled",
                           field="status", allowed=f"payment within {rt.settings.order_pay_minutes} minutes")
        if action == "refund":
            since = row.completed_at or row.paid_at
            assert since is not None
            if now > since + timedelta(days=rt.settings.refund_days):
                raise Conflict("refund_window_closed", f"refunds close {rt.settings.refund_days} days after "
                               "payment or delivery", field="status",
                               allowed=f"within {rt.settings.refund_days} days")
        before = row.status
        seller_kind = account_kind(s, row.seller_id)
        common = {"consumer_id": row.consumer_id, "order_id": row.id, "value_fen": row.total_fen,
                  **Source.of(row).event(), **seller_columns(seller_kind, row.seller_id)}
        if action == "pay":
            row.status, row.paid_at = "paid", now
            emit(s, rt, ids, EventKind.ORDER_PAID, **common)
        elif action == "ship":
            row.status, row.shipped_at = "shipped", now
        elif action == "complete":
            row.status, row.completed_at = "completed", now
        else:
            if before in ("created", "paid"):
                _restock(s, row.id)  # nothing left the warehouse
            row.status, row.closed_at = ("refunded" if action == "refund" else "cancelled"), now
            if action == "refund":
                emit(s, rt, ids, EventKind.REFUND, **common)
        record_audit(s, rt, actor, account_id=row.seller_id, action=f"order.{action}", target=f"order:{order_id}",
                     before={"status": before}, after={"status": row.status})
        return _view(row, s.scalars(select(OrderItemRow).where(OrderItemRow.order_id == order_id)).all())


def expire_unpaid_orders(rt: Runtime, ids: EventIds, *, limit: int = 500) -> int:
    """Cancel orders left unpaid past ``ZHONGCAO_ORDER_PAY_MINUTES``, returning their stock; a sweeper runs it."""
    cutoff = rt.now() - timedelta(minutes=rt.settings.order_pay_minutes)
    with rt.db.read() as s:
        stale = s.scalars(select(OrderRow.id).where(OrderRow.status == "created", OrderRow.created_at < cutoff)
                          .order_by(OrderRow.id).limit(limit)).all()
    done = 0
    for order_id in stale:
        try:
            do_transition(rt, ids, order_id, "cancel", actor=Actor.system())
            done += 1
        except Conflict:
            pass  # paid meanwhile
    return done


@dataclass(frozen=True)
class NoteSales:
    orders: int
    gmv_fen: int


def note_sales(session: Session, note_ids: Sequence[int], since: datetime, until: datetime) -> dict[int, NoteSales]:
    """Paid, unrefunded orders whose last touch was each note, paid in [since, until): what a commission
    is owed on and what a sponsored note's ROI counts. The order's source is its last touch."""
    rows = session.execute(
        select(OrderRow.note_id, func.count(), func.coalesce(func.sum(OrderRow.total_fen), 0))
        .where(OrderRow.note_id.in_(list(note_ids)), OrderRow.paid_at.is_not(None), OrderRow.paid_at >= since,
               OrderRow.paid_at < until, OrderRow.status != "refunded")
        .group_by(OrderRow.note_id)).all()
    found = {int(n): NoteSales(int(c), int(g)) for n, c, g in rows if n is not None}
    return {int(n): found.get(int(n), NoteSales(0, 0)) for n in note_ids}
