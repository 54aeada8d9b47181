"""The event store: one schema, idempotent and atomic batch writes, Parquet export, Ibis reads."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from zhongcao.core import Invalid, ManualClock
from zhongcao.events import (
    ARROW_SCHEMA,
    EventIds,
    EventKind,
    EventStore,
    Surface,
    concat_columns,
    id_time,
    make_batch,
)

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def impressions(ids: np.ndarray, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    n = len(ids)
    return make_batch({
        "event_id": ids, "ts": np.full(n, np.datetime64("2026-03-02T01:00:00", "us")),
        "kind": np.full(n, EventKind.IMPRESSION, dtype=np.uint8), "consumer_id": rng.integers(0, 1000, n),
        "note_id": rng.integers(1, 50, n), "surface": np.full(n, Surface.FEED, dtype=np.uint8),
        "position": rng.integers(1, 11, n), "policy": "feed.trial.v1", "propensity": rng.random(n),
    })


@pytest.fixture
def store(tmp_path: Path) -> EventStore:
    s = EventStore(tmp_path / "events.duckdb")
    yield s
    s.close()


def test_ids_are_unique_ascending_and_replayable() -> None:
    clock = ManualClock(T0)
    ids = EventIds(clock, node=3)
    a = ids.take(10_000)  # more than 4,096 in one millisecond: borrows from the next ones
    clock.advance(timedelta(milliseconds=1))
    b = ids.take(5)
    both = np.concatenate([a, b])
    assert len(np.unique(both)) == len(both)
    assert np.all(both[1:] > both[:-1])
    assert id_time(int(a[0])) == T0
    assert np.array_equal(EventIds(ManualClock(T0), node=3).take(10_000), a)
    assert not np.array_equal(EventIds(ManualClock(T0), node=4).take(10), a[:10])


def test_a_batch_is_stored_once_however_often_it_is_sent(store: EventStore) -> None:
    ids = EventIds(ManualClock(T0)).take(1_000)
    assert store.write(impressions(ids)).inserted == 1_000
    again = store.write(impressions(ids))
    assert (again.inserted, again.duplicates) == (0, 1_000)
    overlap = store.write(impressions(np.concatenate([ids[500:], ids[-1:] + np.uint64(1)])))
    assert (overlap.inserted, overlap.duplicates) == (1, 500)
    assert store.count() == 1_001


def test_duplicates_inside_one_batch_are_stored_once(store: EventStore) -> None:
    ids = EventIds(ManualClock(T0)).take(100)
    shuffled = np.random.default_rng(1).permutation(np.concatenate([ids, ids[:30]]))
    result = store.write(impressions(shuffled))
    assert (result.inserted, result.duplicates) == (100, 30)
    stored = store.run(store.events().event_id).to_numpy()
    assert sorted(stored.tolist()) == sorted(ids.tolist())


@pytest.mark.parametrize(("columns", "field"), [
    ({"ts": [T0], "kind": [1]}, "event_id"),
    ({"event_id": [1], "ts": [T0], "kind": [99]}, "kind"),
    ({"event_id": [1], "ts": [T0], "kind": [1], "colour": ["red"]}, "colour"),
    ({"event_id": [1], "ts": [T0], "kind": [1], "note_id": ["n-7"]}, "note_id"),
    ({"event_id": [1, 2], "ts": [T0, T0], "kind": [1]}, "kind"),
    ({"event_id": [1, None], "ts": [T0, T0], "kind": [1, 1]}, "event_id"),
    ({"event_id": [-1], "ts": [T0], "kind": [1]}, "event_id"),
])
def test_malformed_batches_are_refused_whole(store: EventStore, columns: dict, field: str) -> None:
    with pytest.raises(Invalid) as info:
        store.write(columns)
    assert (info.value.code, info.value.field) == ("invalid_event", field)
    assert store.count() == 0


def test_a_batch_in_another_schema_is_refused(store: EventStore) -> None:
    table = impressions(EventIds(ManualClock(T0)).take(3)).drop_columns(["lease_id"])
    with pytest.raises(Invalid):
        store.write(table)
    assert store.count() == 0


def test_a_crash_mid_write_leaves_the_whole_batch_or_none(tmp_path: Path) -> None:
    """SIGKILL a writer during a large INSERT; on reopening, earlier batches are intact and the
    interrupted one is absent (or, had it committed, complete)."""
    path = tmp_path / "events.duckdb"
    script = textwrap.dedent(f"""
        import sys, numpy as np
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_events import impressions
        from zhongcao.events import EventStore
        store = EventStore({str(path)!r})
        store.write(impressions(np.arange(1, 1001, dtype=np.uint64)))
        big = impressions(np.arange(10_000, 10_000 + 4_000_000, dtype=np.uint64))
        print("writing", flush=True)
        store.write(big)
        print("done", flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "writing"
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    finished = "done" in proc.stdout.read()
    proc.wait()
    with EventStore(path) as store:
        assert store.count() == (4_001_000 if finished else 1_000)


def test_parquet_export_round_trips(store: EventStore, tmp_path: Path) -> None:
    ids = EventIds(ManualClock(T0)).take(500)
    store.write(impressions(ids))
    t = store.events()
    assert store.export_parquet(tmp_path / "all.parquet") == 500
    back = pq.read_table(tmp_path / "all.parquet")
    assert back.column("event_id").to_pylist() == ids.tolist()
    first_slot = int(np.sum(store.run(t.position).to_numpy() == 1))
    assert store.export_parquet(tmp_path / "some.parquet", t.filter(t.position == 1)) == first_slot
    assert set(pq.read_table(tmp_path / "some.parquet").column("position").to_pylist()) == {1}


def test_reads_go_through_ibis(store: EventStore) -> None:
    batch = impressions(EventIds(ManualClock(T0)).take(2_000), seed=5)
    store.write(batch)
    t = store.events()
    per_note = store.run(t.group_by("note_id").aggregate(n=t.count()).order_by("note_id"))
    notes, counts = np.unique(batch.column("note_id").to_numpy(), return_counts=True)
    assert per_note.column("note_id").to_pylist() == notes.tolist()
    assert per_note.column("n").to_pylist() == counts.tolist()


def test_a_newer_schema_adds_columns_without_rewriting(tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE events (event_id UBIGINT NOT NULL, ts TIMESTAMP NOT NULL, kind UTINYINT NOT NULL)")
    con.execute("INSERT INTO events VALUES (1, '2026-01-01', 1)")
    con.close()
    with EventStore(path) as store:
        assert store.count() == 1
        assert store.write(impressions(np.array([2, 3], dtype=np.uint64))).inserted == 2
        assert store.count() == 3
        assert list(store.events().columns) == ARROW_SCHEMA.names


def test_many_small_column_sets_make_the_batch_their_separate_batches_would() -> None:
    """The serving buffer's join: arrays, broadcast scalars, nulls as None, lists with None and Arrow arrays
    with nulls, on every type the schema has."""
    ts = np.datetime64("2026-03-02T01:00:00", "us")
    records: list[tuple[int, dict[str, object]]] = [
        (3, {"event_id": np.array([1, 2, 3], dtype=np.uint64), "ts": ts, "kind": EventKind.IMPRESSION.value,
             "consumer_id": 7, "note_id": np.array([10, 11, 12]), "position": np.array([1, 2, 3]),
             "policy": np.array(["explore", "exploit", "exploit"]), "propensity": np.array([0.5, 1.0, 1.0])}),
        (2, {"event_id": np.array([4, 5], dtype=np.uint64), "ts": ts, "kind": EventKind.AD_IMPRESSION.value,
             "consumer_id": 8, "note_id": np.array([13, 14]), "keyword_id": pa.array([0, 99], mask=[True, False]),
             "query": "口红", "price_fen": np.array([120, 80]), "surface": Surface.SEARCH.value}),
        (2, {"event_id": np.array([6, 7], dtype=np.uint64), "ts": ts, "kind": EventKind.SEARCH.value,
             "consumer_id": [None, 9], "query": ["面霜", None], "lease_id": None}),
    ]
    assert {f.name for f in ARROW_SCHEMA} >= set().union(*(c.keys() for _, c in records))
    joined = make_batch(concat_columns(records))
    separate = pa.concat_tables([make_batch(c) for _, c in records])
    assert joined.equals(separate)
    assert joined.column("keyword_id").to_pylist() == [None] * 3 + [None, 99] + [None] * 2
    assert joined.column("consumer_id").to_pylist() == [7, 7, 7, 8, 8, None, 9]
    def one(t: pa.DataType) -> np.ndarray:
        if pa.types.is_string(t):
            return np.array(["x"], dtype=object)
        return np.asarray(pa.array([ts if pa.types.is_timestamp(t) else 1]).cast(t).to_numpy())

    every_type = make_batch(concat_columns([(1, {f.name: one(f.type) for f in ARROW_SCHEMA})] * 2))
    assert every_type.num_rows == 2
    assert every_type.column("event_id").to_pylist() == [1, 1]


def test_one_event_from_plain_values_is_the_batch_make_batch_builds() -> None:
    from zhongcao.events import make_row

    at = datetime(2026, 3, 2, 1, 0)
    values = {"event_id": 7, "ts": at, "kind": EventKind.ORDER.value, "consumer_id": 3, "quantity": 2, "source": "ad"}
    assert make_row(values).equals(make_batch({k: [v] for k, v in values.items()}))
    for bad, field in (({"kind": 99}, "kind"), ({"ts": None}, "ts"), ({"shop": 1}, "shop"),
                       ({"event_id": -1}, "columns")):
        with pytest.raises(Invalid) as exc:
            make_row(values | bad)
        assert (exc.value.code, exc.value.field) == ("invalid_event", field)
