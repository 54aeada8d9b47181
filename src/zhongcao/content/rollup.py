"""Rollups: ingested events folded into State, so a starting engine loads totals instead of replaying history.

The process holding the event store folds each chunk it ingests in the transaction that marks the chunk
ingested (``events.ingest(fold=...)``), so every batch is counted exactly once. A starting engine reads
the rollups, and the outbox batches not yet ingested, in one snapshot: together they are every event,
none of them twice.

Pool levels are folded too: the ingester judges promotions on the same rules as every engine, so a
restarted engine resumes each note's climb where the platform left it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from zhongcao.content.distribution import NoteState, PoolSpec, record_events, update_pools
from zhongcao.content.models import ConsumerInterest, CreatorStatsRow, FollowerRow, Note, NoteStatsRow
from zhongcao.content.taxonomy import CODE, N_CATEGORIES
from zhongcao.core import Runtime, distinct, in_lists, insert_for
from zhongcao.events import EventKind, id_column

# The event columns ``fold`` reads: a caller that holds events until it folds them may keep just these.
FOLDED = ("note_id", "kind", "ts", "consumer_id", "creator_id")
_STAT_COLUMNS = [getattr(NoteStatsRow, f) for f in NoteState.PERSISTED]


@dataclass(frozen=True)
class NoteEvents:
    """The columns of an event batch that content reads, as numpy; null ids are 0."""

    note_id: np.ndarray
    kind: np.ndarray
    at: np.ndarray        # unix seconds
    consumer_id: np.ndarray
    creator_id: np.ndarray

    @classmethod
    def of(cls, batch: pa.Table) -> NoteEvents:
        ts = batch.column("ts").to_numpy().astype("datetime64[us]").astype(np.int64) / 1e6
        return cls(id_column(batch, "note_id"), batch.column("kind").to_numpy(), ts,
                   id_column(batch, "consumer_id").astype(np.int64), id_column(batch, "creator_id"))

    @classmethod
    def of_columns(cls, n: int, columns: Mapping[str, Any]) -> NoteEvents:
        """The same from the columns an engine records (scalars broadcast, ``None`` null), before they
        become a batch: an engine counts its own events without building one per request."""
        def column(name: str, dtype: Any) -> np.ndarray:
            value = columns.get(name)
            return np.zeros(n, dtype) if value is None else np.broadcast_to(np.asarray(value).astype(dtype), (n,))

        ts = column("ts", "datetime64[us]").astype(np.int64) / 1e6
        return cls(column("note_id", np.int64), column("kind", np.uint8), ts, column("consumer_id", np.int64),
                   column("creator_id", np.int64))

    def followers(self) -> tuple[np.ndarray, np.ndarray]:
        """(creator ids, follows gained) from follow events that name their creator."""
        follow = (self.kind == EventKind.FOLLOW) & (self.creator_id > 0)
        return np.unique(self.creator_id[follow], return_counts=True)


@dataclass(frozen=True)
class Interests:
    """Interactions to add to consumers' category interests: one row per (consumer, category)."""

    consumer_id: np.ndarray
    category: np.ndarray
    count: np.ndarray

    def __len__(self) -> int:
        return len(self.consumer_id)

    def rows(self, start: int = 0, stop: int | None = None) -> list[tuple[int, int, float]]:
        return list(zip(self.consumer_id[start:stop].tolist(), self.category[start:stop].tolist(),
                        self.count[start:stop].astype(float).tolist(), strict=True))


def fold(session: Session, batch: pa.Table, spec: PoolSpec) -> None:
    """Add an ingested chunk of events to the rollups."""
    add_interests(session, fold_all_but_interests(session, batch, spec))


def fold_all_but_interests(session: Session, batch: pa.Table, spec: PoolSpec) -> Interests:
    """``fold`` but for the consumers' interests, which it returns. Nothing an engine serves reads those
    rows back until a restart, and a day of them is hundreds of thousands: a caller that folds a day at
    once (the simulator) adds them apart, beside its next work."""
    ev = NoteEvents.of(batch)
    learned = _fold_notes(session, ev, spec)
    creators, gained = ev.followers()
    if len(creators):
        _upsert(session, CreatorStatsRow, ("creator_id",), ("followers",),
                list(zip(creators.tolist(), gained.tolist(), strict=True)), add=True)
        _fold_followers(session, ev)
    return learned


def add_interests(session: Session, interests: Interests, start: int = 0, stop: int | None = None) -> None:
    """Add interactions (rows ``start:stop`` of them) to consumers' interests."""
    _upsert(session, ConsumerInterest, ("consumer_id", "category"), ("weight",), interests.rows(start, stop),
            add=True)


def _fold_followers(session: Session, ev: NoteEvents) -> None:
    """Record who follows whom; a repeated follow keeps its first time (the batch's first, or the row
    already there: the insert skips a pair that has one)."""
    follow = (ev.kind == EventKind.FOLLOW) & (ev.creator_id > 0) & (ev.consumer_id > 0)
    if not follow.any():
        return
    pairs, first = np.unique(np.stack([ev.creator_id[follow], ev.consumer_id[follow]], axis=1), axis=0,
                             return_index=True)
    at = ev.at[follow][first]
    table = FollowerRow.__table__
    session.execute(insert_for(session)(table).on_conflict_do_nothing(index_elements=["account_id", "consumer_id"]),
                    [{"account_id": int(a), "consumer_id": int(c), "followed_at": datetime.fromtimestamp(float(t), UTC)}
                     for (a, c), t in zip(pairs, at, strict=True)])


def followers_of(rt: Runtime, account_id: int) -> np.ndarray:
    """The consumers following an account, as of the last ingest."""
    with rt.db.read() as session:
        return np.array(session.scalars(select(FollowerRow.consumer_id).where(FollowerRow.account_id == account_id)
                                        .order_by(FollowerRow.consumer_id)).all(), dtype=np.int64)


_NO_INTERESTS = Interests(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))


def _fold_notes(session: Session, ev: NoteEvents, spec: PoolSpec) -> Interests:
    """The notes' stats and pool levels; returns what the events taught about consumers' interests."""
    ids = distinct(ev.note_id[ev.note_id > 0])
    if not len(ids):
        return _NO_INTERESTS
    rows = [r for chunk in in_lists(ids) for r in session.execute(
        select(Note.id, Note.category, Note.created_at, NoteStatsRow.note_id, *_STAT_COLUMNS)
        .outerjoin(NoteStatsRow, NoteStatsRow.note_id == Note.id).where(Note.id.in_(chunk)))]
    if not rows:
        return _NO_INTERESTS
    state = NoteState(len(rows))
    state.add(np.array([r[0] for r in rows]), np.array([CODE[r[1]] for r in rows]),
              np.array([r[2].timestamp() for r in rows]))
    had = np.array([r[3] is not None for r in rows])
    for k, name in enumerate(NoteState.PERSISTED):
        getattr(state, name)[: state.n][had] = [r[4 + k] for r in rows if r[3] is not None]
    idx = state.indices(ev.note_id)
    act = record_events(state, idx, ev.kind, ev.at, spec)
    update_pools(state, spec)
    _upsert(session, NoteStatsRow, ("note_id",), NoteState.PERSISTED,
            list(zip(*(getattr(state, f)[: state.n].tolist() for f in ("note_id", *NoteState.PERSISTED)),
                     strict=True)), add=False)
    learned = act & (ev.consumer_id > 0)
    # one integer key per (consumer, category): np.unique over rows sorts far slower
    keys, counts = np.unique(ev.consumer_id[learned] * N_CATEGORIES + state.category[idx[learned]],
                             return_counts=True)
    consumers, categories = np.divmod(keys, N_CATEGORIES)
    return Interests(consumers, categories, counts)


def _upsert(session: Session, model: type, keys: tuple[str, ...], values: tuple[str, ...],
            rows: list[tuple[Any, ...]], *, add: bool) -> None:
    """Write rows (the keys, then the values), in one upsert statement: a row already there takes the new
    values, or adds them to its own (``add``: a counter; a new row starts at them). Reading the rows first
    and then updating and inserting took three round trips.

    A day's interests are hundreds of thousands of rows, so the rows skip SQLAlchemy's binding (a dict
    per row through the compiled statement cost more than the upsert): SQLite takes them as plain tuples
    through the driver's executemany, PostgreSQL as one array per column, unnested in one statement. The
    columns are numbers and booleans, which both drivers bind as they are."""
    if not rows:
        return
    table = model.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect
    names = (*keys, *values)
    assign = ", ".join(f"{v} = {table.name}.{v} + excluded.{v}" if add else f"{v} = excluded.{v}" for v in values)
    upsert = f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {assign}"
    if dialect.name == "sqlite":
        sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) {upsert}"
        session.connection().exec_driver_sql(sql, rows)
        return
    arrays = ", ".join(f"%s::{table.c[c].type.compile(dialect=dialect)}[]" for c in names)
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM unnest({arrays}) {upsert}"
    session.connection().exec_driver_sql(sql, tuple(list(c) for c in zip(*rows, strict=True)))


@dataclass(frozen=True)
class Totals:
    """Every rollup, as one snapshot read them."""

    note_id: np.ndarray
    stats: dict[str, np.ndarray]  # NoteState.PERSISTED field → values aligned with note_id
    followers: dict[int, int]
    interest_consumer: np.ndarray
    interest_category: np.ndarray
    interest_weight: np.ndarray


def load(session: Session) -> Totals:
    notes = session.execute(select(NoteStatsRow.note_id, *_STAT_COLUMNS)).all()
    columns = list(zip(*notes, strict=True)) if notes else [()] * (1 + len(_STAT_COLUMNS))
    interests = session.execute(select(ConsumerInterest.consumer_id, ConsumerInterest.category,
                                       ConsumerInterest.weight)).all()
    ic = list(zip(*interests, strict=True)) if interests else [(), (), ()]
    empty = NoteState(0)
    return Totals(
        np.array(columns[0], dtype=np.int64),
        {f: np.array(columns[1 + k], dtype=getattr(empty, f).dtype) for k, f in enumerate(NoteState.PERSISTED)},
        dict(session.execute(select(CreatorStatsRow.creator_id, CreatorStatsRow.followers)).all()),
        np.array(ic[0], dtype=np.int64), np.array(ic[1], dtype=np.int64), np.array(ic[2], dtype=np.float32))
