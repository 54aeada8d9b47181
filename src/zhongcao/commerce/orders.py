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

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, tuple_, update
from sqlalchemy.orm import Session

from zhongcao.accounts import Actor, Capability, kind_of, record_audits, require_owner, require_platform
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
from zhongcao.commerce.record import emit_many
from zhongcao.commerce.sources import Source
from zhongcao.core import Conflict, Invalid, NotFound, Runtime, in_lists
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


def _items(items: Sequence[tuple[int, int]], at: str = "") -> dict[int, int]:
    if not 1 <= len(items) <= MAX_ITEMS:
        raise Invalid("invalid_order", "an order has 1 to 50 items", field=f"{at}items",
                      allowed=f"1..{MAX_ITEMS} items")
    out: dict[int, int] = {}
    for product, qty in items:
        if product in out:
            raise Invalid("invalid_order", f"product {product} is listed twice", field=f"{at}items.product_id",
                          allowed="each product once, with its qty")
        if not 1 <= qty <= MAX_QTY:
            raise Invalid("invalid_order", f"qty {qty} is out of range", field=f"{at}items.qty",
                          allowed=f"1..{MAX_QTY}")
        out[product] = qty
    return out


@dataclass(frozen=True)
class OrderAsk:
    """One order of a batch: a consumer buys (product, qty) items of one seller, through ``source``."""

    consumer_id: int
    items: Sequence[tuple[int, int]]
    source: Source


def do_create_order(rt: Runtime, ids: EventIds, consumer_id: int, items: Sequence[tuple[int, int]], source: Source,
                    *, actor: Actor) -> OrderView:
    return _create(rt, ids, [OrderAsk(consumer_id, items, source)], actor, lambda _: "")[0]


def do_create_orders(rt: Runtime, ids: EventIds, asks: Sequence[OrderAsk], *, actor: Actor) -> list[OrderView]:
    """Many orders in one transaction, all or nothing, each as ``do_create_order`` would place it, in order: a
    refusal names the order (``orders[i].…``) and changes nothing. One statement per step instead of one per
    order is what lets a simulated hour's buyers check out at serving speed."""
    return _create(rt, ids, asks, actor, lambda i: f"orders[{i}].")


def _create(rt: Runtime, ids: EventIds, asks: Sequence[OrderAsk], actor: Actor,
            at: Callable[[int], str]) -> list[OrderView]:
    require_platform(actor, "place an order for a consumer")
    wanted = [_items(a.items, at(i)) for i, a in enumerate(asks)]
    if not asks:
        return []
    with rt.db.transaction() as s:
        every = sorted({p for w in wanted for p in w})
        products = {p.id: p for chunk in in_lists(every) for p in s.execute(
            select(ProductRow.id, ProductRow.account_id, ProductRow.price_fen, ProductRow.stock)
            .where(ProductRow.id.in_(chunk)))}
        sellers: list[int] = []
        for i, w in enumerate(wanted):
            for product in w:
                if product not in products:
                    raise NotFound("product", product)
            theirs = {products[p].account_id for p in w}
            if len(theirs) > 1:
                raise Invalid("invalid_order", "an order buys from one seller; split it per shop",
                              field=f"{at(i)}items", allowed="products of one seller")
            sellers.append(theirs.pop())
        shops = set(s.scalars(select(ShopRow.account_id).where(ShopRow.account_id.in_(set(sellers)))))
        for i, seller in enumerate(sellers):
            if seller not in shops:
                raise Conflict("shop_not_open", f"account {seller} has no open shop", field=f"{at(i)}items",
                               allowed="products of an account with an open shop")
        sources = [a.source for a in asks]
        for i, a in enumerate(asks):
            if a.source.live_id is not None:
                _check_live(s, a.source.live_id, list(wanted[i]), at(i))
                sources[i] = _entered_through(s, a.source, a.consumer_id)
        _take_stock(s, wanted, {p: r.stock for p, r in products.items()}, at)
        now = rt.now()
        totals = [sum(products[p].price_fen * q for p, q in w.items()) for w in wanted]
        order_ids = list(s.scalars(insert(OrderRow).returning(OrderRow.id, sort_by_parameter_order=True), [
            {"consumer_id": a.consumer_id, "seller_id": seller, "status": "created", "total_fen": total,
             "created_at": now, **source.columns()}
            for a, seller, total, source in zip(asks, sellers, totals, sources, strict=True)]))
        lines = [[OrderItem(p, q, products[p].price_fen) for p, q in sorted(w.items())] for w in wanted]
        s.execute(insert(OrderItemRow), [{"order_id": order_id, **asdict(line)}
                                         for order_id, mine in zip(order_ids, lines, strict=True) for line in mine])
        bought = sorted({(a.consumer_id, p) for a, w in zip(asks, wanted, strict=True) for p in w})
        for chunk in in_lists(bought):  # bought: out of the cart
            s.execute(delete(CartItemRow).where(tuple_(CartItemRow.consumer_id, CartItemRow.product_id).in_(chunk)))
        kinds = {seller: account_kind(s, seller) for seller in sorted(set(sellers))}
        for kind in (EventKind.ORDER, EventKind.LIVE_ORDER):
            emit_many(s, rt, ids, kind, [
                {"consumer_id": a.consumer_id, "order_id": order_id, "value_fen": total, "quantity": sum(w.values()),
                 "product_id": mine[0].product_id, **source.event(), **seller_columns(kinds[seller], seller)}
                for a, order_id, total, w, mine, source, seller
                in zip(asks, order_ids, totals, wanted, lines, sources, sellers, strict=True)
                if (source.kind == "live") == (kind == EventKind.LIVE_ORDER)])
    return [OrderView(order_id, a.consumer_id, seller, "created", total, mine, source.view(), now, None, None, None,
                      None)
            for a, order_id, seller, total, mine, source
            in zip(asks, order_ids, sellers, totals, lines, sources, strict=True)]


def _take_stock(s: Session, wanted: list[dict[int, int]], stock: dict[int, int], at: Callable[[int], str]) -> None:
    """Take each product's units for all the orders at once, by one conditional UPDATE, in product-id order.
    Short, the refusal names the first order the stock read could not cover."""
    need: dict[int, int] = defaultdict(int)
    for w in wanted:
        for product, qty in w.items():
            need[product] += qty
    for product in sorted(need):
        taken = s.execute(update(ProductRow).where(ProductRow.id == product, ProductRow.stock >= need[product])
                          .values(stock=ProductRow.stock - need[product])).rowcount  # type: ignore[attr-defined]
        if taken == 1:
            continue
        left, short = stock[product], 0
        for i, w in enumerate(wanted):
            if product in w:
                short = i
                if w[product] > left:
                    break
                left -= w[product]
        raise Conflict("out_of_stock", f"product {product} has fewer than {wanted[short][product]} units left",
                       field=f"{at(short)}items.qty", allowed=f"at most {max(left, 0)}")


def account_kind(s: Session, account_id: int) -> str:
    kind = kind_of(s, account_id)
    if kind is None:
        raise NotFound("account", account_id)
    return kind


def _check_live(s: Session, live_id: int, products: list[int], at: str = "") -> None:
    session = s.get(LiveSessionRow, live_id)
    assert session is not None  # the source was resolved
    if session.status == "scheduled":
        raise Conflict("live_not_started", f"live session {live_id} has not started", field=f"{at}source.id",
                       allowed="a live session that is live or has ended (replay)")
    linked = set(s.scalars(select(LiveProductRow.product_id).where(LiveProductRow.live_id == live_id)))
    if not set(products) <= linked:
        raise Invalid("invalid_source", "a live order buys products linked in that live session",
                      field=f"{at}items.product_id", allowed=sorted(linked))


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
    return _transition(rt, ids, [order_id], action, actor, lambda _: "")[0]


def do_transition_many(rt: Runtime, ids: EventIds, order_ids: Sequence[int], action: str, *,
                       actor: Actor) -> list[OrderView]:
    """One action on many orders in one transaction, all or nothing: a refusal names the order
    (``order_ids[i]``) and changes nothing."""
    return _transition(rt, ids, order_ids, action, actor, lambda i: f"order_ids[{i}].")


def _transition(rt: Runtime, ids: EventIds, order_ids: Sequence[int], action: str, actor: Actor,
                at: Callable[[int], str]) -> list[OrderView]:
    if action not in FROM:
        raise ValueError(action)
    if not order_ids:
        return []
    if len(set(order_ids)) < len(order_ids):
        raise Invalid("duplicate_order", "an order appears twice", field="order_ids", allowed="each order once")
    with rt.db.transaction() as s:
        found = {row.id: row for chunk in in_lists(order_ids) for row in s.scalars(
            rt.db.for_update(select(OrderRow).where(OrderRow.id.in_(chunk))))}
        now = rt.now()
        rows = []
        for i, order_id in enumerate(order_ids):
            row = found.get(order_id)
            if row is None:
                raise NotFound("order", order_id)
            _may(s, actor, row, action)
            _check_transition(rt, row, action, now, at(i))
            rows.append(row)
        kinds = {seller: account_kind(s, seller) for seller in sorted({row.seller_id for row in rows})}
        happened: list[dict[str, object]] = []
        audits: dict[str, list[tuple[int | None, str, str, dict[str, object] | None]]] = defaultdict(list)
        for row in rows:
            before = row.status
            if action == "pay":
                row.status, row.paid_at = "paid", now
            elif action == "ship":
                row.status, row.shipped_at = "shipped", now
            elif action == "complete":
                row.status, row.completed_at = "completed", now
            else:
                if before in ("created", "paid"):
                    _restock(s, row.id)  # nothing left the warehouse
                row.status, row.closed_at = ("refunded" if action == "refund" else "cancelled"), now
            happened.append({"consumer_id": row.consumer_id, "order_id": row.id, "value_fen": row.total_fen,
                             **Source.of(row).event(), **seller_columns(kinds[row.seller_id], row.seller_id)})
            audits[before].append((row.seller_id, f"order.{action}", f"order:{row.id}", {"status": row.status}))
        if action in ("pay", "refund"):
            emit_many(s, rt, ids, EventKind.ORDER_PAID if action == "pay" else EventKind.REFUND, happened)
        for before, entries in audits.items():
            record_audits(s, rt, actor, entries, before={"status": before})
        items: dict[int, list[OrderItemRow]] = defaultdict(list)
        for chunk in in_lists([row.id for row in rows]):
            for item in s.scalars(select(OrderItemRow).where(OrderItemRow.order_id.in_(chunk))):
                items[item.order_id].append(item)
        return [_view(row, items[row.id]) for row in rows]


def _may(s: Session, actor: Actor, row: OrderRow, action: str) -> None:
    if action in ("ship", "refund"):  # the seller ships; it or the consumer (through the app) refunds
        require_owner(s, actor, row.seller_id, Capability.OPERATE, "order", row.id)
    else:
        require_owner(s, actor, row.seller_id, Capability.READ, "order", row.id)
        require_platform(actor, f"{action} an order for its consumer")


def _check_transition(rt: Runtime, row: OrderRow, action: str, now: datetime, at: str) -> None:
    if row.status not in FROM[action]:
        raise Conflict("invalid_order_transition", f"a {row.status} order cannot take {action!r}",
                       field=f"{at}status", allowed=list(FROM[action]))
    if action == "pay" and now > row.created_at + timedelta(minutes=rt.settings.order_pay_minutes):
        raise Conflict("invalid_order_transition", "the order was left unpaid too long and is being cancelled",
                       field=f"{at}status", allowed=f"payment within {rt.settings.order_pay_minutes} minutes")
    if action == "refund":
        since = row.completed_at or row.paid_at
        assert since is not None
        if now > since + timedelta(days=rt.settings.refund_days):
            raise Conflict("refund_window_closed", f"refunds close {rt.settings.refund_days} days after "
                           "payment or delivery", field=f"{at}status",
                           allowed=f"within {rt.settings.refund_days} days")


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
