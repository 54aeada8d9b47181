"""The outbox between the API's processes and the event store.

DuckDB takes one writing process, and an API runs many. So a request appends its events, as one Arrow
batch, to ``event_outbox`` in State, in the same transaction as the change that caused them: an event
is recorded exactly when its change is. Whichever process holds the DuckDB file then ``ingest``s the
outbox into the store (DuckDB's file lock is the election), idempotent by event id, so a crash between
writing and marking only repeats work. Engines ``tail`` the outbox to keep their counters live.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyarrow as pa
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from zhongcao.core import Runtime
from zhongcao.events.models import OutboxBatch
from zhongcao.events.schema import ARROW_SCHEMA
from zhongcao.events.store import EventStore

RETENTION = timedelta(hours=1)  # ingested batches stay this long for engines that tail


def _encode(batch: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, ARROW_SCHEMA) as writer:
        writer.write_table(batch)
    return bytes(sink.getvalue().to_pybytes())


def _decode(payload: bytes) -> pa.Table:
    return pa.ipc.open_stream(pa.py_buffer(payload)).read_all()


@dataclass(frozen=True)
class Tailed:
    batch_id: int
    created_at: datetime
    events: pa.Table


def enqueue(session: Session, rt: Runtime, batch: pa.Table) -> Tailed:
    """Record a batch inside the caller's transaction; returns it as engines tail it, so the engine that
    wrote it can apply it at once and skip it in the tail."""
    row = OutboxBatch(created_at=rt.now(), rows=batch.num_rows, payload=_encode(batch))
    session.add(row)
    session.flush()
    return Tailed(row.id, row.created_at, batch)


def tail(rt: Runtime, since: datetime, limit: int = 1_000, skip: Container[int] = ()) -> list[Tailed]:
    """Batches recorded at or after ``since``, oldest first, less those in ``skip`` (already applied). Ids
    are read first and payloads only for new batches: re-reading a lookback window costs ids, not data."""
    with rt.db.read() as s:
        heads = s.execute(select(OutboxBatch.id, OutboxBatch.created_at).where(OutboxBatch.created_at >= since)
                          .order_by(OutboxBatch.created_at, OutboxBatch.id)).all()
        new = [(i, at) for i, at in heads if i not in skip][:limit]
        payloads = dict(s.execute(select(OutboxBatch.id, OutboxBatch.payload)
                                  .where(OutboxBatch.id.in_([i for i, _ in new]))).all()) if new else {}
    return [Tailed(i, at, _decode(payloads[i])) for i, at in new]


def pending(session: Session) -> list[Tailed]:
    """Every batch not yet ingested, oldest first: with ``ingested_ids``, read in the same snapshot as the
    rollups that ``ingest`` folds, it is exactly what those rollups do not count yet."""
    rows = session.execute(select(OutboxBatch.id, OutboxBatch.created_at, OutboxBatch.payload)
                           .where(OutboxBatch.ingested_at.is_(None)).order_by(OutboxBatch.id)).all()
    return [Tailed(i, at, _decode(p)) for i, at, p in rows]


def ingested_ids(session: Session) -> dict[int, datetime]:
    """The batches still retained that ingest already folded: id → created_at."""
    return dict(session.execute(select(OutboxBatch.id, OutboxBatch.created_at)
                                .where(OutboxBatch.ingested_at.is_not(None))).all())


Fold = Callable[[Session, pa.Table], None]


def ingest(rt: Runtime, store: EventStore, limit: int = 500, fold: Fold | None = None) -> int:
    """Move pending batches into the store; returns the events newly stored.

    ``fold`` runs in the transaction that marks the batches ingested, so rollups in State count each
    batch exactly once: a failure rolls both back and the next call repeats both (the store skips the
    events it already has)."""
    with rt.db.transaction() as s:
        pending = s.execute(rt.db.for_update(
            select(OutboxBatch.id, OutboxBatch.payload).where(OutboxBatch.ingested_at.is_(None))
            .order_by(OutboxBatch.id).limit(limit), skip_locked=True)).all()
        if not pending:
            s.execute(delete(OutboxBatch).where(OutboxBatch.ingested_at < rt.now() - RETENTION))
            return 0
        chunk = pa.concat_tables([_decode(p) for _, p in pending]).combine_chunks()
        stored = store.write(chunk).inserted
        if fold is not None:
            fold(s, chunk)
        s.execute(update(OutboxBatch).where(OutboxBatch.id.in_([i for i, _ in pending]))
                  .values(ingested_at=rt.now()))
        return stored
