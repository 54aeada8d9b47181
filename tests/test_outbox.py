"""The event outbox: events recorded with their state change, ingested into the store exactly once."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select, update

from zhongcao.api import ingest as ingest_module
from zhongcao.api.ingest import Ingester
from zhongcao.content import ContentEngine
from zhongcao.core import Runtime
from zhongcao.events import EventIds, EventKind, EventStore, enqueue, ingest, make_batch, tail
from zhongcao.events.models import OutboxBatch
from zhongcao.events.outbox import RETENTION


def likes(ids: np.ndarray, note: int = 7) -> object:
    n = len(ids)
    return make_batch({"event_id": ids, "ts": np.full(n, np.datetime64("2026-03-02T01:00:00", "us")),
                       "kind": np.full(n, EventKind.LIKE, dtype=np.uint8), "note_id": np.full(n, note),
                       "consumer_id": np.arange(n)})


def outbox_rows(rt: Runtime) -> int:
    with rt.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(OutboxBatch)) or 0)


def test_events_are_recorded_with_their_transaction_or_not_at_all(rt: Runtime) -> None:
    ids = EventIds(rt.clock)
    with rt.db.transaction() as s:
        enqueue(s, rt, likes(ids.take(3)))

    def failing_change() -> None:
        with rt.db.transaction() as s:
            enqueue(s, rt, likes(ids.take(2)))
            raise RuntimeError("the state change failed")

    with pytest.raises(RuntimeError):
        failing_change()
    assert outbox_rows(rt) == 1
    (batch,) = tail(rt, rt.now() - timedelta(seconds=1))
    assert batch.events.num_rows == 3


def test_ingest_stores_each_event_once_even_after_a_lost_mark(rt: Runtime, tmp_path: Path) -> None:
    ids = EventIds(rt.clock)
    for _ in range(4):
        with rt.db.transaction() as s:
            enqueue(s, rt, likes(ids.take(5)))
    with EventStore(tmp_path / "events.duckdb") as store:
        assert ingest(rt, store) == 20
        assert ingest(rt, store) == 0
        with rt.db.transaction() as s:  # a crash after writing the store, before the mark committed
            s.execute(update(OutboxBatch).values(ingested_at=None))
        assert ingest(rt, store) == 0
        assert store.count() == 20
        rt.clock.advance(RETENTION + timedelta(seconds=1))
        assert ingest(rt, store) == 0
    assert outbox_rows(rt) == 0  # pruned once tailing engines had their hour


def test_closing_the_ingester_waits_for_its_tick_and_opens_nothing_after(
        rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server stopping waits only so long for its ingest thread; the close must not pull the store from
    under a tick still running (DuckDB refuses a connection busy with another call)."""
    inside, release = threading.Event(), threading.Event()
    refresh = ingest_module.content.refresh_hot_queries

    def slow_refresh(*args: object) -> None:
        inside.set()
        release.wait(10)
        refresh(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(ingest_module.content, "refresh_hot_queries", slow_refresh)
    ingester = Ingester(rt, ContentEngine(rt))
    failures: list[BaseException] = []

    def tick() -> None:
        try:
            ingester(everything=True)
        except BaseException as e:  # the test reports it below
            failures.append(e)

    ticking = threading.Thread(target=tick)
    ticking.start()
    assert inside.wait(10)
    closing = threading.Thread(target=ingester.close)
    closing.start()
    closing.join(0.2)
    assert closing.is_alive()  # still waiting for the tick
    release.set()
    ticking.join(10)
    closing.join(10)
    assert not failures
    assert not closing.is_alive()
    ingester()
    assert ingester.store is None
