"""The marketplace in State: creators' profiles and the samples their analytics read, the folded note
statistics and the creator snapshot discovery ranks, and briefs with their collaborations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from zhongcao.core import Base, BigId, UTCDateTime

FORMATS = ("image", "video")
CONTRACTS = ("fixed", "cps", "trial")
GENDERS = ("female", "male", "unknown")
STATES = ("invited", "applied", "quoted", "accepted", "funded", "sample_shipped", "draft_submitted",
          "changes_requested", "approved", "published", "settled", "declined", "cancelled", "expired")


class CreatorProfileRow(Base):
    """What a creator tells the marketplace: where they are, what they cover, what a note costs, and the
    public features of their account that the fake-account model reads."""

    __tablename__ = "market_creator"
    __table_args__ = (CheckConstraint(f"gender IN {GENDERS}", name="gender_allowed"),)

    creator_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True, autoincrement=False)
    category: Mapped[str] = mapped_column(String(32))
    region: Mapped[str] = mapped_column(String(32))
    gender: Mapped[str] = mapped_column(String(8))
    quote_image_fen: Mapped[int] = mapped_column(BigInteger)
    quote_video_fen: Mapped[int] = mapped_column(BigInteger)
    following_count: Mapped[int] = mapped_column(BigInteger, default=0)
    has_avatar: Mapped[bool] = mapped_column(default=True)
    is_private: Mapped[bool] = mapped_column(default=False)
    bio_length: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FollowerDayRow(Base):
    """A creator's follower count as shown at the end of a day: growth and its spikes are read from it."""

    __tablename__ = "market_follower_day"

    creator_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    followers: Mapped[int] = mapped_column(BigInteger)


class AudienceSampleRow(Base):
    """One follower in a creator's audience sample: what the platform knows of the follower's profile and
    account. Audience composition and the fake share are estimated from the sample, as third-party
    auditors do, rather than from every follower of a mega creator."""

    __tablename__ = "market_audience_sample"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    creator_id: Mapped[int] = mapped_column(BigInteger, index=True)
    gender: Mapped[int] = mapped_column(SmallInteger)        # index into GENDERS
    age: Mapped[int] = mapped_column(SmallInteger)           # index into analytics.AGES
    city_tier: Mapped[int] = mapped_column(SmallInteger)     # 1..4
    consumption: Mapped[int] = mapped_column(SmallInteger)   # index into analytics.CONSUMPTION
    device: Mapped[int] = mapped_column(SmallInteger)        # index into analytics.DEVICES
    follower_count: Mapped[int] = mapped_column(BigInteger)
    following_count: Mapped[int] = mapped_column(BigInteger)
    media_count: Mapped[int] = mapped_column(BigInteger)
    has_profile_pic: Mapped[bool]
    is_private: Mapped[bool]
    biography_length: Mapped[int] = mapped_column(Integer)
    username_length: Mapped[int] = mapped_column(Integer)
    username_digit_count: Mapped[int] = mapped_column(Integer)


class CommentSampleRow(Base):
    """Recent comment texts under a creator's notes: bought engagement repeats itself."""

    __tablename__ = "market_comment_sample"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    creator_id: Mapped[int] = mapped_column(BigInteger, index=True)
    note_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    text: Mapped[str] = mapped_column(String(500))


class NoteDayRow(Base):
    """A note's traffic on one day, folded from the event store: all traffic and the organic part
    (what came without an ad)."""

    __tablename__ = "market_note_day"
    __table_args__ = (Index("ix_market_note_day_creator_day", "creator_id", "day"),)

    note_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    creator_id: Mapped[int] = mapped_column(BigInteger)
    exposures: Mapped[int] = mapped_column(BigInteger, default=0)
    organic_exposures: Mapped[int] = mapped_column(BigInteger, default=0)
    reads: Mapped[int] = mapped_column(BigInteger, default=0)
    organic_reads: Mapped[int] = mapped_column(BigInteger, default=0)
    likes: Mapped[int] = mapped_column(BigInteger, default=0)
    collects: Mapped[int] = mapped_column(BigInteger, default=0)
    comments: Mapped[int] = mapped_column(BigInteger, default=0)
    shares: Mapped[int] = mapped_column(BigInteger, default=0)
    follows: Mapped[int] = mapped_column(BigInteger, default=0)
    organic_engagements: Mapped[int] = mapped_column(BigInteger, default=0)


class WatermarkRow(Base):
    """How far a fold has read the event store (event ids are time-ordered)."""

    __tablename__ = "market_watermark"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[int] = mapped_column(BigInteger)


class CreatorStatsRow(Base):
    """The creator snapshot discovery filters and ranks: analytics, estimates, tier and authenticity."""

    __tablename__ = "market_creator_stats"

    creator_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    stats: Mapped[dict[str, Any]] = mapped_column(JSON)
    authenticity: Mapped[int] = mapped_column(SmallInteger)
    reasons: Mapped[list[str]] = mapped_column(JSON)


class BriefRow(Base):
    __tablename__ = "market_brief"
    __table_args__ = (
        CheckConstraint(f"format IN {FORMATS}", name="format_allowed"),
        CheckConstraint(f"contract IN {CONTRACTS}", name="contract_allowed"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(32))
    format: Mapped[str] = mapped_column(String(8))
    deliverables: Mapped[str] = mapped_column(Text)
    budget_fen: Mapped[int] = mapped_column(BigInteger)
    roi_target: Mapped[float | None] = mapped_column(Float, nullable=True)
    contract: Mapped[str] = mapped_column(String(8))
    cps_rate_bp: Mapped[int] = mapped_column(Integer, default=0)  # commission in basis points of GMV
    sample_required: Mapped[bool]
    max_revisions: Mapped[int] = mapped_column(SmallInteger)
    publish_from: Mapped[datetime] = mapped_column(UTCDateTime())
    publish_to: Mapped[datetime] = mapped_column(UTCDateTime())
    evaluation_days: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(8), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CollaborationRow(Base):
    """One deal between a brief's brand and one creator, walked through its lifecycle by ``do_*`` actions.

    ``deadline_at`` is when the current state lapses; ``version`` makes a stale writer fail."""

    __tablename__ = "market_collaboration"
    __table_args__ = (
        CheckConstraint(f"state IN {STATES}", name="state_allowed"),
        Index("ix_market_collaboration_creator", "creator_id", "created_at"),
        Index("ix_market_collaboration_deadline", "deadline_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    brief_id: Mapped[int] = mapped_column(ForeignKey("market_brief.id"), index=True)
    brand_id: Mapped[int] = mapped_column(BigInteger, index=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    origin: Mapped[str] = mapped_column(String(12))  # invite | application
    state: Mapped[str] = mapped_column(String(20))
    quote_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    fee_fen: Mapped[int] = mapped_column(BigInteger, default=0)           # agreed creator fee (or CPS cap)
    platform_fee_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # 10% of the fee, prepaid
    escrow_txn_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    revisions: Mapped[int] = mapped_column(SmallInteger, default=0)
    draft_title: Mapped[str | None] = mapped_column(String(100), nullable=True)
    draft_body: Mapped[str | None] = mapped_column(Text, nullable=True)
    feedback: Mapped[str | None] = mapped_column(String(500), nullable=True)
    note_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    settlement: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    brand_rating: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    creator_rating: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy's declarative contract)
