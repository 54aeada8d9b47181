"""Products (SPU) and the shop (POP store) that sells them.

A brand, store or creator lists products with a price in fen, a category and stock. Selling on the
platform needs a shop, which an account opens once it has enough followers: the threshold is
``ZHONGCAO_SHOP_MIN_FOLLOWERS`` (the field quotes 1,000–2,000). Followers are counted by the content
engine from follow events, so the caller hands the count in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from zhongcao.accounts import Actor, Capability, record_audit, require, require_owner
from zhongcao.commerce.models import ProductRow, ShopRow
from zhongcao.content import CODE
from zhongcao.core import Conflict, Invalid, NotFound, Runtime

SELLER_KINDS = ("brand", "store", "distributor", "creator")
MAX_STOCK = 10**9


@dataclass(frozen=True)
class ProductView:
    id: int
    account_id: int
    name: str
    price_fen: int
    category: str
    stock: int
    created_at: datetime

    @classmethod
    def of(cls, row: ProductRow) -> ProductView:
        return cls(row.id, row.account_id, row.name, row.price_fen, row.category, row.stock, row.created_at)


@dataclass(frozen=True)
class ShopView:
    account_id: int
    open: bool
    followers_at_open: int | None
    opened_at: datetime | None
    min_followers: int


def _bad(field: str, detail: str, allowed: object) -> Invalid:
    return Invalid("invalid_product", detail, field=field, allowed=allowed)


def do_create_product(rt: Runtime, account_id: int, *, name: str, price_fen: int, category: str, stock: int,
                      actor: Actor) -> ProductView:
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise _bad("name", "a product name is 1 to 200 characters", "1..200 characters")
    if not 1 <= price_fen <= 10**10:
        raise _bad("price_fen", "a price is a positive whole number of fen", "1..10^10")
    if category not in CODE:
        raise _bad("category", f"{category!r} is not a category", sorted(CODE))
    if not 0 <= stock <= MAX_STOCK:
        raise _bad("stock", "stock is a whole number of units", f"0..{MAX_STOCK}")
    with rt.db.transaction() as s:
        owner = require(s, actor, account_id, Capability.OPERATE)
        if owner.kind not in SELLER_KINDS:
            raise _bad("account_id", f"a {owner.kind} account does not sell", list(SELLER_KINDS))
        row = ProductRow(account_id=account_id, name=name, price_fen=price_fen, category=category, stock=stock,
                         created_at=rt.now())
        s.add(row)
        s.flush()
        record_audit(s, rt, actor, account_id=account_id, action="product.create", target=f"product:{row.id}",
                     after={"name": name, "price_fen": price_fen, "stock": stock})
        return ProductView.of(row)


def get_product(rt: Runtime, product_id: int) -> ProductView:
    """Products are public: consumers see them on notes, in live rooms and in the shop."""
    with rt.db.read() as s:
        row = s.get(ProductRow, product_id)
        if row is None:
            raise NotFound("product", product_id)
        return ProductView.of(row)


def do_restock(rt: Runtime, product_id: int, delta: int, *, actor: Actor) -> ProductView:
    """Add (or, negative, withdraw) stock: relative, so it never overwrites a sale made meanwhile."""
    if not -MAX_STOCK <= delta <= MAX_STOCK or delta == 0:
        raise _bad("delta", "a restock adds or removes a non-zero number of units", f"-{MAX_STOCK}..{MAX_STOCK}, not 0")
    with rt.db.transaction() as s:
        row = s.get(ProductRow, product_id, with_for_update=True)
        if row is None:
            raise NotFound("product", product_id)
        require_owner(s, actor, row.account_id, Capability.OPERATE, "product", product_id)
        if row.stock + delta < 0 or row.stock + delta > MAX_STOCK:
            raise Conflict("out_of_stock", f"product {product_id} holds {row.stock} units", field="delta",
                           allowed=f"-{row.stock}..{MAX_STOCK - row.stock}")
        before = row.stock
        row.stock += delta
        record_audit(s, rt, actor, account_id=row.account_id, action="product.restock",
                     target=f"product:{product_id}", before={"stock": before}, after={"stock": row.stock})
        return ProductView.of(row)


def list_products(rt: Runtime, account_id: int) -> list[ProductView]:
    with rt.db.read() as s:
        return [ProductView.of(r) for r in s.scalars(
            select(ProductRow).where(ProductRow.account_id == account_id).order_by(ProductRow.id))]


def get_shop(rt: Runtime, account_id: int) -> ShopView:
    with rt.db.read() as s:
        row = s.get(ShopRow, account_id)
    if row is None:
        return ShopView(account_id, False, None, None, rt.settings.shop_min_followers)
    return ShopView(account_id, True, row.followers_at_open, row.opened_at, rt.settings.shop_min_followers)


def do_open_shop(rt: Runtime, account_id: int, *, followers: int, actor: Actor) -> ShopView:
    """Open the account's shop, if it has the followers; opening an open shop answers as before."""
    with rt.db.transaction() as s:
        owner = require(s, actor, account_id, Capability.MANAGE)
        if owner.kind not in SELLER_KINDS:
            raise _bad("account_id", f"a {owner.kind} account does not sell", list(SELLER_KINDS))
        if s.get(ShopRow, account_id) is None:
            need = rt.settings.shop_min_followers
            if followers < need:
                raise Conflict("shop_not_eligible", f"a shop needs {need} followers; the account has {followers}",
                               field="followers", allowed=f">= {need}")
            s.add(ShopRow(account_id=account_id, followers_at_open=followers, opened_at=rt.now()))
            record_audit(s, rt, actor, account_id=account_id, action="shop.open", target=f"account:{account_id}",
                         after={"followers": followers})
    return get_shop(rt, account_id)
