"""Notes in State: the source of truth that each process's content engine indexes and distributes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, String, Text
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
    product_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Bumped by every ORM update (and checked: a stale writer fails). Engines identify what they applied
    # by it, since two changes may share a timestamp.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy's declarative contract)
