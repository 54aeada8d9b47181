"""Ad plans in State: campaign → unit → creative, and keywords on units. Specs live in JSON where the
platform nests them (targeting, dayparts, components); what delivery filters on has a column."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from zhongcao.core import Base, BigId, UTCDateTime

STATUSES = ("active", "paused", "deleted")


class CampaignRow(Base):
    __tablename__ = "ad_campaign"
    __table_args__ = (CheckConstraint(f"status IN {STATUSES}", name="status_allowed"),
                      CheckConstraint("daily_budget_fen IS NULL OR daily_budget_fen > 0", name="budget_positive"),
                      Index("ix_ad_campaign_updated_at_id", "updated_at", "id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)  # whose wallet it spends
    name: Mapped[str] = mapped_column(String(100))
    objective: Mapped[str] = mapped_column(String(32))
    placement: Mapped[str] = mapped_column(String(16))
    bidding: Mapped[str] = mapped_column(String(16))
    optimize_for: Mapped[str] = mapped_column(String(16))
    daily_budget_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    pacing: Mapped[str] = mapped_column(String(16))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    dayparts: Mapped[list[str]] = mapped_column(JSON)
    holiday_uplift: Mapped[bool] = mapped_column(Boolean)
    billing_event: Mapped[str] = mapped_column(String(16), server_default="click")
    quick_cast: Mapped[bool] = mapped_column(Boolean)
    quick_cast_coefficient: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy's declarative contract)


class UnitRow(Base):
    __tablename__ = "ad_unit"
    __table_args__ = (CheckConstraint(f"status IN {STATUSES}", name="status_allowed"),
                      Index("ix_ad_unit_updated_at_id", "updated_at", "id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("ad_campaign.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    bid_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    target_cost_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    note_ids: Mapped[list[int]] = mapped_column(JSON)
    # 代投: the sub-account whose notes a brand unit promotes; delivery stops if the authorization ends.
    substituted_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True)
    product_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # SPU seeding: the product promoted
    targeting: Mapped[dict[str, object]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class CreativeRow(Base):
    __tablename__ = "ad_creative"
    __table_args__ = (CheckConstraint(f"status IN {STATUSES}", name="status_allowed"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("ad_unit.id"), index=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("note.id"))
    component: Mapped[dict[str, object]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class KeywordRow(Base):
    """A search keyword of a unit, with its own bid and match type; a negative one blocks queries."""

    __tablename__ = "ad_keyword"
    __table_args__ = (CheckConstraint(f"status IN {STATUSES}", name="status_allowed"),
                      CheckConstraint("match IN ('exact', 'phrase', 'smart')", name="match_allowed"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("ad_unit.id"), index=True)
    keyword: Mapped[str] = mapped_column(String(40))
    match: Mapped[str] = mapped_column(String(8))
    bid_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    negative: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AdClick(Base):
    """Every click on an ad, charged or not: the durable record a lease commit and a report both count.

    A click id is answered once (a replay gets the same answer), and a consumer's repeated clicks on one
    creative in a budget day are charged once: the partial unique index makes a second charge impossible
    even between processes."""

    __tablename__ = "ad_click"
    __table_args__ = (Index("uq_ad_click_charged_once", "consumer_id", "creative_id", "day", unique=True,
                            sqlite_where=text("charged_fen > 0"), postgresql_where=text("charged_fen > 0")),
                      CheckConstraint("charged_fen >= 0", name="charged_not_negative"))

    click_key: Mapped[str] = mapped_column(String(64), primary_key=True)  # digest of the click id
    consumer_id: Mapped[int] = mapped_column(BigInteger)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("ad_campaign.id"), index=True)
    unit_id: Mapped[int] = mapped_column(BigInteger)
    creative_id: Mapped[int] = mapped_column(BigInteger)
    day: Mapped[date] = mapped_column(Date)
    price_fen: Mapped[int] = mapped_column(BigInteger)    # the auction's price for a click
    charged_fen: Mapped[int] = mapped_column(BigInteger)  # what was charged: 0 for a repeat or when no money
    outcome: Mapped[str] = mapped_column(String(16))      # charged | repeat | unfunded | cpm
    lease_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class AudienceRow(Base):
    """The consumers a unit's behaviour rules (keyword behaviour, creator fans) admit, as one sorted array:
    computed from the event store by the process that holds it, read whole by every serving process."""

    __tablename__ = "ad_audience"

    unit_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    rules: Mapped[str] = mapped_column(String(64))          # a hash of the rules the members answer
    size: Mapped[int] = mapped_column(BigInteger)
    consumers: Mapped[bytes] = mapped_column(LargeBinary)   # sorted uint64, little-endian
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AdSecret(Base):
    """The key that signs click ids, shared by every process through State and made on first use."""

    __tablename__ = "ad_secret"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret: Mapped[str] = mapped_column(String(128))


class AdReportRow(Base):
    """A day's delivery and attributed results for one creative (and keyword, 0 for none): the rows
    reports aggregate. Computed from the event store and replaced as windows settle; never edited."""

    __tablename__ = "ad_report"
    __table_args__ = (Index("ix_ad_report_account_day", "account_id", "day"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    unit_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    creative_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    keyword_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    account_id: Mapped[int] = mapped_column(BigInteger)
    impressions: Mapped[int] = mapped_column(BigInteger)
    clicks: Mapped[int] = mapped_column(BigInteger)
    fee_fen: Mapped[int] = mapped_column(BigInteger)
    likes: Mapped[int] = mapped_column(BigInteger)
    comments: Mapped[int] = mapped_column(BigInteger)
    collects: Mapped[int] = mapped_column(BigInteger)
    follows: Mapped[int] = mapped_column(BigInteger)
    shares: Mapped[int] = mapped_column(BigInteger)
    position_sum: Mapped[int] = mapped_column(BigInteger, server_default="0")
    top1_impressions: Mapped[int] = mapped_column(BigInteger, server_default="0")
    top3_impressions: Mapped[int] = mapped_column(BigInteger, server_default="0")
    top1_clicks: Mapped[int] = mapped_column(BigInteger, server_default="0")
    top3_clicks: Mapped[int] = mapped_column(BigInteger, server_default="0")
    live_entries: Mapped[int] = mapped_column(BigInteger, server_default="0")
    dms: Mapped[int] = mapped_column(BigInteger, server_default="0")
    shop_visits: Mapped[int] = mapped_column(BigInteger, server_default="0")
    add_to_carts: Mapped[int] = mapped_column(BigInteger, server_default="0")
    orders: Mapped[int] = mapped_column(BigInteger, server_default="0")
    gmv_fen: Mapped[int] = mapped_column(BigInteger, server_default="0")
    paid_orders: Mapped[int] = mapped_column(BigInteger, server_default="0")
    paid_gmv_fen: Mapped[int] = mapped_column(BigInteger, server_default="0")
    live_orders: Mapped[int] = mapped_column(BigInteger, server_default="0")
    live_gmv_fen: Mapped[int] = mapped_column(BigInteger, server_default="0")
    store_visits: Mapped[int] = mapped_column(BigInteger, server_default="0")
    leads: Mapped[int] = mapped_column(BigInteger, server_default="0")
    valid_leads: Mapped[int] = mapped_column(BigInteger, server_default="0")
    offsite_orders_7d: Mapped[int] = mapped_column(BigInteger, server_default="0")
    offsite_gmv_7d: Mapped[int] = mapped_column(BigInteger, server_default="0")
    offsite_orders_15d: Mapped[int] = mapped_column(BigInteger, server_default="0")
    offsite_gmv_15d: Mapped[int] = mapped_column(BigInteger, server_default="0")
    offsite_orders_30d: Mapped[int] = mapped_column(BigInteger, server_default="0")
    offsite_gmv_30d: Mapped[int] = mapped_column(BigInteger, server_default="0")


class ConversionSecret(Base):
    """An advertiser's key for signing conversion postbacks; the platform needs it whole to check an HMAC."""

    __tablename__ = "ad_conversion_secret"

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True, autoincrement=False)
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConversionRow(Base):
    """A conversion an advertiser posted back, once per its external id."""

    __tablename__ = "ad_conversion"
    __table_args__ = (UniqueConstraint("account_id", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    external_id: Mapped[str] = mapped_column(String(100))
    fingerprint: Mapped[str] = mapped_column(String(64))  # what the first report said, to refuse a different one
    type: Mapped[str] = mapped_column(String(16))
    value_fen: Mapped[int] = mapped_column(BigInteger)
    consumer_id: Mapped[int] = mapped_column(BigInteger)
    campaign_id: Mapped[int] = mapped_column(BigInteger, index=True)
    unit_id: Mapped[int] = mapped_column(BigInteger)
    creative_id: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    platform: Mapped[str] = mapped_column(String(24), server_default="other")  # where an off-site order was placed


class OffsiteTotalRow(Base):
    """An advertiser's own count of a day's off-site orders from this platform's traffic (from its Taobao,
    JD or mini-program back office): what postbacks are measured against, since some never come back."""

    __tablename__ = "ad_offsite_total"

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    platform: Mapped[str] = mapped_column(String(24), primary_key=True)
    orders: Mapped[int] = mapped_column(BigInteger)
    gmv_fen: Mapped[int] = mapped_column(BigInteger)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime())
