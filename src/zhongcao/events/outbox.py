"""The outbox between the API's processes and the event store.

DuckDB takes one writing process, and an API runs many. So a request appends its events, as one Arrow
batch, to ``event_outbox`` in State, in the same transaction as the change that caused them: an event
is recorded exactly when its change is. Whichever process holds the DuckDB file then ``ingest``s the
outbox into the store (DuckDB's file lock is the election), idempotent by event id, so a crash between
writing and marking only repeats work. Engines ``tail`` the outbox to keep their counters live.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from zhongcao.core import Runtime
from zhongcao.events.batch import concat_columns, make_batch
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
    now = rt.now()
    batch_id = session.execute(insert(OutboxBatch).values(created_at=now, rows=batch.num_rows, payload=_encode(batch))
                               .returning(OutboxBatch.id)).scalar_one()
    return Tailed(batch_id, now, batch)


class Buffer:
    """Serving requests leave their events here, and ``flush`` moves them to the outbox as one batch.

    One write transaction per feed page queues every request on the database's write lock (SQLite has
    one per file) and caps a server near a few hundred pages a second; one per flush costs a few
    milliseconds per interval. Events are held as plain columns and become one Arrow batch at the flush,
    which costs a fraction of a batch per request. The price is durability: a crash loses at most the
    events of one interval, and the engine that recorded them loses them alike (it counted them in
    memory only), so what a restart counts is exactly what was written. Events that must not wait, an
    engagement a consumer sees counted, flush at once.

    Only the engines record here, with columns they build themselves: ``make_batch`` checks them at the
    flush, and a batch it refuses would be a bug in an engine.

    A ``sink`` takes the batches instead of the outbox: the process that holds the event store itself
    (the simulator) has no other process to hand them to, and writing them to State only to read them
    back is most of what its events cost. That process then writes and folds them itself."""

    def __init__(self, rt: Runtime, max_events: int = 20_000,
                 sink: Callable[[pa.Table], None] | None = None) -> None:
        self.rt = rt
        self.max_events = max_events
        self.sink = sink
        self._records: list[tuple[int, Mapping[str, Any]]] = []
        self._events = 0
        self._lock = threading.Lock()        # guards the list: held for an append or a swap
        self._flushing = threading.Lock()    # one flush at a time, so batches keep their order

    def add(self, n: int, columns: Mapping[str, Any]) -> bool:
        """Hold ``n`` events (scalars broadcast) for the next flush; True once the buffer is full and the
        caller should flush."""
        with self._lock:
            self._records.append((n, columns))
            self._events += n
            return self._events >= self.max_events

    def __len__(self) -> int:
        return self._events

    def flush(self, written: Callable[[Tailed], None] = lambda _: None,
              unwritten: Callable[[Tailed], None] = lambda _: None) -> Tailed | None:
        """Write what is held as one outbox batch. ``written`` sees the batch once it has its id and before
        it commits, so an engine can mark it as its own before any tail can read it; ``unwritten`` undoes
        that when the commit fails, and the events go back to wait for the next flush."""
        with self._flushing:
            with self._lock:
                records, self._records, self._events = self._records, [], 0
            if not records:
                return None
            tailed: Tailed | None = None
            try:
                batch = make_batch(concat_columns(records))
                if self.sink is not None:
                    self.sink(batch)
                    return None
                with self.rt.db.transaction() as s:
                    tailed = enqueue(s, self.rt, batch)
                    written(tailed)
            except BaseException:
                if tailed is not None:
                    unwritten(tailed)
                with self._lock:
                    self._records[:0] = records
                    self._events += sum(n for n, _ in records)
                raise
            return tailed


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

    The store is written before State's transaction opens, so serving requests never wait on the write
    lock while DuckDB works; the store skips events it already has, so a crash after that write only
    repeats it. ``fold`` runs in the transaction that marks the batches ingested, so rollups in State
    count each batch exactly once: a failure rolls both back and the next call repeats both."""
    with rt.db.read() as s:
        found = s.execute(select(OutboxBatch.id, OutboxBatch.payload).where(OutboxBatch.ingested_at.is_(None))
                          .order_by(OutboxBatch.id).limit(limit)).all()
    if not found:
        with rt.db.transaction() as s:
            s.execute(delete(OutboxBatch).where(OutboxBatch.ingested_at < rt.now() - RETENTION))
        return 0
    batches = {i: _decode(p) for i, p in found}
    stored = store.write(pa.concat_tables(batches.values()).combine_chunks()).inserted
    with rt.db.transaction() as s:
        # Another ingester may have taken some meanwhile (PostgreSQL); fold only what is still pending.
        mine = s.scalars(rt.db.for_update(select(OutboxBatch.id).where(
            OutboxBatch.id.in_(list(batches)), OutboxBatch.ingested_at.is_(None)), skip_locked=True)).all()
        if mine:
            if fold is not None:
                fold(s, pa.concat_tables([batches[i] for i in sorted(mine)]).combine_chunks())
            s.execute(update(OutboxBatch).where(OutboxBatch.id.in_(mine)).values(ingested_at=rt.now()))
    return stored

