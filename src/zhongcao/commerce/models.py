"""Commerce in State: products and shops, orders, live sessions, DMs and leads, lead webhooks, stores (POI)
and visit codes, pushes and featured UGC.

Consumers are ids, not accounts, as everywhere in the engine: a consumer's side of an action is the
platform app calling on their behalf. Every row a consumer's action creates records its **source** (what
brought the consumer: a note, an ad click, a live room, a search, a profile) as a kind and a reference, and
the note, live session and ad ids resolved from it, so attribution never has to parse a reference again.
``follow`` is a follower arriving through what they follow (the follow feed, a go-live notice).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from zhongcao.core import Base, BigId, UTCDateTime

ORDER_STATUSES = ("created", "paid", "shipped", "completed", "refunded", "cancelled")
SOURCE_KINDS = ("note", "ad", "live", "search", "profile", "follow", "push")
LIVE_STATUSES = ("scheduled", "live", "ended")
LEAD_STATUSES = ("new", "contacted", "valid", "won", "lost")
DELIVERY_STATUSES = ("pending", "delivered", "failed")


def _in(column: str, values: tuple[str, ...]) -> CheckConstraint:
    return CheckConstraint(f"{column} IN {values}", name=f"{column}_allowed")


class Source:
    """The columns that say what brought a consumer, shared by orders, viewers, conversations and leads."""

    source_kind: Mapped[str] = mapped_column(String(16))
    source_ref: Mapped[str] = mapped_column(String(400))  # a note or live id, a click id, a query, an account id
    note_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    live_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    campaign_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    unit_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    creative_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class ProductRow(Base):
    __tablename__ = "commerce_product"
    __table_args__ = (CheckConstraint("stock >= 0", name="stock_not_negative"),
                      CheckConstraint("price_fen > 0", name="price_positive"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    price_fen: Mapped[int] = mapped_column(BigInteger)
    category: Mapped[str] = mapped_column(String(32))
    stock: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ShopRow(Base):
    __tablename__ = "commerce_shop"

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True, autoincrement=False)
    followers_at_open: Mapped[int] = mapped_column(BigInteger)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OrderRow(Source, Base):
    __tablename__ = "commerce_order"
    __table_args__ = (_in("status", ORDER_STATUSES), _in("source_kind", SOURCE_KINDS),
                      Index("ix_commerce_order_live", "live_id", "status"),
                      Index("ix_commerce_order_status_created", "status", "created_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    consumer_id: Mapped[int] = mapped_column(BigInteger, index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    total_fen: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)  # refunded or cancelled


class OrderItemRow(Base):
    __tablename__ = "commerce_order_item"
    __table_args__ = (CheckConstraint("qty > 0", name="qty_positive"),)

    order_id: Mapped[int] = mapped_column(ForeignKey("commerce_order.id"), primary_key=True, autoincrement=False)
    product_id: Mapped[int] = mapped_column(ForeignKey("commerce_product.id"), primary_key=True,
                                            autoincrement=False)
    qty: Mapped[int] = mapped_column(Integer)
    price_fen: Mapped[int] = mapped_column(BigInteger)  # the price when ordered


class LiveSessionRow(Base):
    __tablename__ = "commerce_live_session"
    __table_args__ = (_in("status", LIVE_STATUSES),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    host_account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    pinned_product_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LiveProductRow(Base):
    __tablename__ = "commerce_live_product"

    live_id: Mapped[int] = mapped_column(ForeignKey("commerce_live_session.id"), primary_key=True,
                                         autoincrement=False)
    product_id: Mapped[int] = mapped_column(ForeignKey("commerce_product.id"), primary_key=True,
                                            autoincrement=False)


class LiveReservationRow(Base):
    __tablename__ = "commerce_live_reservation"

    live_id: Mapped[int] = mapped_column(ForeignKey("commerce_live_session.id"), primary_key=True,
                                         autoincrement=False)
    consumer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LiveViewerRow(Source, Base):
    """One entry into a room; a consumer who leaves and comes back enters again."""

    __tablename__ = "commerce_live_viewer"
    __table_args__ = (_in("source_kind", SOURCE_KINDS),
                      Index("ix_commerce_live_viewer_open", "session_id", "consumer_id", "left_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("commerce_live_session.id"))
    consumer_id: Mapped[int] = mapped_column(BigInteger)
    replay: Mapped[bool] = mapped_column(Boolean)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    watch_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)


class LiveActivityRow(Base):
    """Comments and follows in a room: what its counters read."""

    __tablename__ = "commerce_live_activity"
    __table_args__ = (_in("kind", ("comment", "follow")), Index("ix_commerce_live_activity", "live_id", "kind"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    live_id: Mapped[int] = mapped_column(ForeignKey("commerce_live_session.id"))
    consumer_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConversationRow(Source, Base):
    __tablename__ = "commerce_conversation"
    __table_args__ = (_in("source_kind", SOURCE_KINDS), Index("ix_commerce_conversation_account", "account_id",
                                                              "created_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    consumer_id: Mapped[int] = mapped_column(BigInteger)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    seat_account_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # a KOS seat
    seat_member_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)   # or a member of the account
    consumer_messages: Mapped[int] = mapped_column(Integer, default=0)
    account_messages: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    first_consumer_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class MessageRow(Base):
    __tablename__ = "commerce_message"
    __table_args__ = (_in("sender", ("consumer", "account")),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("commerce_conversation.id"), index=True)
    sender: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    masked: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class LeadRow(Source, Base):
    __tablename__ = "commerce_lead"
    __table_args__ = (_in("status", LEAD_STATUSES), _in("kind", ("phone", "wecom")),
                      _in("source_kind", SOURCE_KINDS), Index("ix_commerce_lead_account", "account_id", "id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("commerce_conversation.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    consumer_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class WebhookRow(Base):
    """Where an account's leads are delivered (its CRM), and the secret that signs them."""

    __tablename__ = "commerce_webhook"

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True, autoincrement=False)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DeliveryRow(Base):
    """One lead to deliver to one CRM: written with the lead, so no lead is ever missed."""

    __tablename__ = "commerce_webhook_delivery"
    __table_args__ = (_in("status", DELIVERY_STATUSES), UniqueConstraint("account_id", "lead_id"),
                      Index("ix_commerce_webhook_delivery_due", "status", "next_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    lead_id: Mapped[int] = mapped_column(ForeignKey("commerce_lead.id"))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AttemptRow(Base):
    """The delivery log: every try, its answer and how long it took."""

    __tablename__ = "commerce_webhook_attempt"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("commerce_webhook_delivery.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str] = mapped_column(String(300))
    duration_ms: Mapped[float] = mapped_column(Float)


class PoiRow(Base):
    __tablename__ = "commerce_poi"

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    city: Mapped[str] = mapped_column(String(20), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lng: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class VisitCodeRow(Base):
    """A code a store hands out in a DM or on a lead; redeemed at the counter, it proves the visit."""

    __tablename__ = "commerce_visit_code"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("commerce_conversation.id"))
    lead_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    consumer_id: Mapped[int] = mapped_column(BigInteger)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class PushRow(Base):
    __tablename__ = "commerce_push"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    text: Mapped[str] = mapped_column(String(500))
    audience: Mapped[str] = mapped_column(String(32))
    sent: Mapped[int] = mapped_column(Integer)
    limited: Mapped[int] = mapped_column(Integer)  # audience members over the frequency limit
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PushReceiptRow(Base):
    __tablename__ = "commerce_push_receipt"
    __table_args__ = (Index("ix_commerce_push_receipt_limit", "account_id", "consumer_id", "at"),)

    push_id: Mapped[int] = mapped_column(ForeignKey("commerce_push.id"), primary_key=True, autoincrement=False)
    consumer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    account_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class FeaturedNoteRow(Base):
    __tablename__ = "commerce_featured_note"

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True, autoincrement=False)
    note_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    featured_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CartItemRow(Base):
    __tablename__ = "commerce_cart_item"
    __table_args__ = (CheckConstraint("qty > 0", name="qty_positive"),)

    consumer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    product_id: Mapped[int] = mapped_column(ForeignKey("commerce_product.id"), primary_key=True, autoincrement=False)
    qty: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
