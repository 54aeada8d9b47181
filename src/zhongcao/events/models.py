"""The event outbox: API-originated events, written with the state change that caused them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from zhongcao.core import Base, BigId, UTCDateTime


class OutboxBatch(Base):
    __tablename__ = "event_outbox"
    __table_args__ = (Index("ix_event_outbox_created_at", "created_at"),
                      Index("ix_event_outbox_ingested_at", "ingested_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    rows: Mapped[int] = mapped_column(Integer)
    payload: Mapped[bytes] = mapped_column(LargeBinary)  # one Arrow IPC stream in the event schema
    ingested_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class NodeLease(Base):
    """Which process holds which event-id node (ids.py): ids are unique because nodes are."""

    __tablename__ = "event_node"

    node: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holder: Mapped[str] = mapped_column(String(100))
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime())
