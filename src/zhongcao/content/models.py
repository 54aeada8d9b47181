"""Notes in State: the source of truth that each process's content engine indexes and distributes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, Float, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from zhongcao.core import Base, BigId, UTCDateTime

NOTE_KINDS = ("image", "video")
NOTE_STATUSES = ("published", "in_review", "restricted", "deleted")


class Note(Base):
    __tablename__ = "note"
    __table_args__ = (
        CheckConstraint(f"kind IN {NOTE_KINDS}", name="kind_allowed"),
        CheckConstraint(f"status IN {NOTE_STATUSES}", name="status_allowed"),
        Index("ix_note_updated_at_id", "updated_at", "id"),  # how engines tail new and changed notes
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    topics: Mapped[list[str]] = mapped_column(JSON)
    category: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="published")
    sponsored: Mapped[bool] = mapped_column(default=False)
    collaboration_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # The brand whose creator deal published this note: it may promote the note with ads (KFS), as the
    # creator authorized when accepting the deal. Set by the marketplace, never by the author.
    boost_account_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    product_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Bumped by every ORM update (and checked: a stale writer fails). Engines identify what they applied
    # by it, since two changes may share a timestamp.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy's declarative contract)


class NoteStatsRow(Base):
    """A note's distribution statistics folded from ingested events, so a starting engine need not replay
    history. Column names are ``NoteState``'s; the ingester writes them, nothing else does."""

    __tablename__ = "note_stats"

    note_id: Mapped[int] = mapped_column(ForeignKey("note.id"), primary_key=True, autoincrement=False)
    level: Mapped[int] = mapped_column(SmallInteger)
    stopped: Mapped[bool]
    level_exposures: Mapped[int] = mapped_column(BigInteger)
    exposures: Mapped[int] = mapped_column(BigInteger)
    reads: Mapped[int] = mapped_column(BigInteger)
    engaged: Mapped[int] = mapped_column(BigInteger)
    ces_w: Mapped[float] = mapped_column(Float)
    likes: Mapped[int] = mapped_column(BigInteger)
    collects: Mapped[int] = mapped_column(BigInteger)
    comments: Mapped[int] = mapped_column(BigInteger)
    shares: Mapped[int] = mapped_column(BigInteger)
    follows: Mapped[int] = mapped_column(BigInteger)


class CreatorStatsRow(Base):
    """Followers an account gained, folded from follow events."""

    __tablename__ = "creator_stats"

    creator_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True, autoincrement=False)
    followers: Mapped[int] = mapped_column(BigInteger)


class ConsumerInterest(Base):
    """How many times a consumer interacted with notes of a category: what the feed's interest term learns."""

    __tablename__ = "consumer_interest"
    __table_args__ = ({"sqlite_with_rowid": False},)  # the day's upsert touches one B-tree (migration 0017)

    consumer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    category: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    weight: Mapped[float] = mapped_column(Float)


class HotQuery(Base):
    """The current hot-query list, computed from search events where the event store lives."""

    __tablename__ = "hot_query"

    rank: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    query: Mapped[str] = mapped_column(String(100))
    searches: Mapped[int] = mapped_column(BigInteger)
    consumers: Mapped[int] = mapped_column(BigInteger)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FollowerRow(Base):
    """Who follows an account, folded from follow events: the audience of its pushes."""

    __tablename__ = "content_follower"

    account_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    consumer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    followed_at: Mapped[datetime] = mapped_column(UTCDateTime())
