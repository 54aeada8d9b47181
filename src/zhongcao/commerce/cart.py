"""The steps before an order: a shop visit (the consumer opened a shop or a product link, the SPU link in
a note or a broadcast) and the cart. Both are conversion nodes the reports count, each with its source;
the cart also keeps what the consumer put in it until they order it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhongcao.accounts import Actor, require_platform
from zhongcao.commerce.models import CartItemRow, ProductRow, ShopRow
from zhongcao.commerce.orders import MAX_QTY, account_kind, seller_columns
from zhongcao.commerce.record import emit
from zhongcao.commerce.sources import Source
from zhongcao.core import Conflict, Invalid, NotFound, Runtime
from zhongcao.events import EventIds, EventKind

MAX_CART = 100  # distinct products in one cart


@dataclass(frozen=True)
class CartLine:
    product_id: int
    seller_id: int
    qty: int
    price_fen: int
    added_at: datetime


@dataclass(frozen=True)
class Cart:
    consumer_id: int
    items: list[CartLine]
    total_fen: int


def _open_shop(s: Session, seller: int) -> None:
    if s.get(ShopRow, seller) is None:
        raise Conflict("shop_not_open", f"account {seller} has no open shop", field="account_id",
                       allowed="an account with an open shop")


def do_visit_shop(rt: Runtime, ids: EventIds, consumer_id: int, account_id: int, source: Source, *,
                  product_id: int | None = None, actor: Actor) -> None:
    """A consumer opened a shop, or one of its product pages (``product_id``)."""
    require_platform(actor, "record a shop visit for a consumer")
    with rt.db.transaction() as s:
        if product_id is not None:
            product = s.get(ProductRow, product_id)
            if product is None or product.account_id != account_id:
                raise NotFound("product", product_id)
        kind = account_kind(s, account_id)
        _open_shop(s, account_id)
        emit(s, rt, ids, EventKind.SHOP_VISIT, consumer_id=consumer_id, product_id=product_id, **source.event(),
             **seller_columns(kind, account_id))


def do_add_to_cart(rt: Runtime, ids: EventIds, consumer_id: int, product_id: int, qty: int, source: Source, *,
                   actor: Actor) -> Cart:
    require_platform(actor, "fill a consumer's cart")
    if not 1 <= qty <= MAX_QTY:
        raise Invalid("invalid_order", f"qty {qty} is out of range", field="qty", allowed=f"1..{MAX_QTY}")
    with rt.db.transaction() as s:
        product = s.get(ProductRow, product_id)
        if product is None:
            raise NotFound("product", product_id)
        _open_shop(s, product.account_id)
        line = s.get(CartItemRow, (consumer_id, product_id))
        if line is None:
            held = len(s.scalars(select(CartItemRow.product_id).where(CartItemRow.consumer_id == consumer_id)).all())
            if held >= MAX_CART:
                raise Invalid("invalid_order", f"a cart holds at most {MAX_CART} products", field="product_id",
                              allowed=f"at most {MAX_CART} products")
            s.add(CartItemRow(consumer_id=consumer_id, product_id=product_id, qty=qty, added_at=rt.now()))
        else:
            line.qty = min(MAX_QTY, line.qty + qty)
        emit(s, rt, ids, EventKind.ADD_TO_CART, consumer_id=consumer_id, product_id=product_id, quantity=qty,
             value_fen=product.price_fen * qty, **source.event(),
             **seller_columns(account_kind(s, product.account_id), product.account_id))
        s.flush()
        return _cart(s, consumer_id)


def get_cart(rt: Runtime, consumer_id: int, *, actor: Actor) -> Cart:
    require_platform(actor, "read a consumer's cart")
    with rt.db.read() as s:
        return _cart(s, consumer_id)


def _cart(s: Session, consumer_id: int) -> Cart:
    rows = s.execute(select(CartItemRow, ProductRow).join(ProductRow, ProductRow.id == CartItemRow.product_id)
                     .where(CartItemRow.consumer_id == consumer_id).order_by(CartItemRow.added_at,
                                                                            CartItemRow.product_id)).all()
    lines = [CartLine(c.product_id, p.account_id, c.qty, p.price_fen, c.added_at) for c, p in rows]
    return Cart(consumer_id, lines, sum(line.qty * line.price_fen for line in lines))

