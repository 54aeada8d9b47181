"""Counters that survive a restart: the rollups the ingester folds, read back with the outbox backlog; creator
stats; and hot queries from search events."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.orm import Session

from conftest import OP, Kob
from zhongcao.content import (
    ContentEngine,
    PoolSpec,
    do_create_note,
    read_hot_queries,
    refresh_hot_queries,
)
from zhongcao.core import ManualClock, Runtime
from zhongcao.events import EventStore, ingest, tail

POOLS = PoolSpec(quotas=(20, 60, 200))


def engaging_world(rt: Runtime, kob: Kob, consumers: int = 120) -> tuple[ContentEngine, int, int]:
    """An engaging beauty note and a dull food note by one creator, shown to ``consumers`` people."""
    engine = ContentEngine(rt, pools=POOLS, rng=np.random.default_rng(1))
    good = do_create_note(rt, kob.creator, title="秋冬口红色号", body="显白不挑皮", category="beauty", actor=OP).id
    dull = do_create_note(rt, kob.creator, title="今天的午饭", body="普通", category="food", actor=OP).id
    engine.sync()
    for c in range(1, consumers + 1):
        for item in engine.feed(c, 2).items:
            if item.note_id == good:
                engine.record_engagement(good, c, "read")
                engine.record_engagement(good, c, "like")
                if c % 10 == 0:
                    engine.record_engagement(good, c, "follow")
    return engine, good, dull


def same_view(a: ContentEngine, b: ContentEngine, notes: list[int], creator: int, consumers: range) -> None:
    for note in notes:
        assert b.stats(note) == a.stats(note)
        assert b.distribution(note) == a.distribution(note)
    assert b.creator_stats(creator) == a.creator_stats(creator)
    assert [b.interests(c) for c in consumers] == [a.interests(c) for c in consumers]


def test_a_restarted_engine_resumes_counters_pools_followers_and_interests(rt: Runtime, kob: Kob,
                                                                           tmp_path: Path) -> None:
    live, good, dull = engaging_world(rt, kob)
    assert (live.distribution(good).pool, live.distribution(dull).climbing) == (2, False)
    assert (live.stats(good).follows, live.creator_stats(kob.creator).followers) == (12, 12)
    # The ingester folds part of the outbox; the rest is still waiting when a new process starts.
    with EventStore(tmp_path / "events.duckdb") as store:
        assert ingest(rt, store, limit=100, fold=live.fold) > 0
        restarted = ContentEngine(rt, pools=POOLS)
        restarted.sync()
        same_view(live, restarted, [good, dull], kob.creator, range(1, 121))
        while ingest(rt, store, fold=live.fold):
            pass
    later = ContentEngine(rt, pools=POOLS)  # everything folded, nothing pending
    later.sync()
    same_view(live, later, [good, dull], kob.creator, range(1, 121))
    assert later.interests(10) == {"beauty": 3.0}  # a read, a like and a follow


def test_a_fold_that_fails_rolls_back_with_its_chunk_and_counts_once_on_retry(rt: Runtime, kob: Kob,
                                                                               tmp_path: Path) -> None:
    engine = ContentEngine(rt, pools=POOLS)
    note = do_create_note(rt, kob.creator, title="露营装备", body="帐篷", actor=OP).id
    for c in (1, 2, 3):
        engine.record_engagement(note, c, "like")

    def crash(session: object, batch: object) -> None:
        engine.fold(session, batch)  # type: ignore[arg-type]
        raise RuntimeError("the process died mid-ingest")

    with EventStore(tmp_path / "events.duckdb") as store:
        with pytest.raises(RuntimeError):
            ingest(rt, store, fold=crash)
        assert store.count() == 3  # the store kept them; State did not mark them ingested
        assert ingest(rt, store, fold=engine.fold) == 0  # repeated: nothing new stored, but folded now
        assert ingest(rt, store, fold=engine.fold) == 0
    fresh = ContentEngine(rt, pools=POOLS)
    fresh.sync()
    assert fresh.stats(note).likes == 3


def test_creator_stats_come_from_their_published_notes(rt: Runtime, kob: Kob) -> None:
    engine, good, dull = engaging_world(rt, kob, consumers=30)
    stats = engine.creator_stats(kob.creator)
    g, d = engine.stats(good), engine.stats(dull)
    assert (stats.notes, stats.followers) == (2, 3)
    assert stats.exposures == g.exposures + d.exposures
    assert stats.interactions == g.likes + g.follows
    assert stats.engagement_rate == pytest.approx(stats.interactions / stats.exposures, abs=1e-6)
    assert engine.creator_stats(kob.brand).engagement_rate is None  # no notes, no rate


def test_hot_queries_count_first_page_searches_by_distinct_consumers(rt: Runtime, kob: Kob, tmp_path: Path) -> None:
    engine = ContentEngine(rt)
    do_create_note(rt, kob.creator, title="露营帐篷推荐", body="防雨", actor=OP)
    engine.sync()
    for c in range(1, 6):
        engine.search("露营 帐篷", consumer_id=c)
    engine.search("露营  帐篷", page=2, consumer_id=7)  # paging is not a new search
    for c in (1, 2):
        engine.search("咖啡", consumer_id=c)            # two people: below the floor of three
    for _ in range(10):
        engine.search("我的秘密", consumer_id=99)       # one person, many times: never shown
    for c in (1, 2, 3):
        engine.search("ＣＡＭＰＩＮＧ　Gear", consumer_id=c)  # folded to one normalized query
    engine.search("露营 帐篷")                           # anonymous: a search, not a consumer
    engine.sync()  # search events are written with the next sync
    with EventStore(tmp_path / "events.duckdb") as store:
        while ingest(rt, store, fold=engine.fold):
            pass
        hot = refresh_hot_queries(rt, store)
        assert [(h.rank, h.query, h.searches, h.consumers) for h in hot] == [
            (1, "露营 帐篷", 6, 5), (2, "camping gear", 3, 3)]
        assert read_hot_queries(rt, 1).items == hot[:1]
        assert isinstance(rt.clock, ManualClock)
        rt.clock.advance(timedelta(hours=25))  # out of the 24-hour window
        assert refresh_hot_queries(rt, store) == []
    assert read_hot_queries(rt, 10).items == []


def test_served_impressions_wait_in_the_buffer_and_reach_the_outbox_as_one_batch_counted_once(
        rt: Runtime, kob: Kob) -> None:
    engine = ContentEngine(rt, pools=POOLS, rng=np.random.default_rng(2))
    note = do_create_note(rt, kob.creator, title="通勤穿搭", body="一周不重样", category="fashion", actor=OP).id
    engine.sync()
    for c in range(1, 11):
        engine.feed(c, 2)
    assert engine.stats(note).exposures == 10  # counted at once, in memory
    assert tail(rt, rt.now() - timedelta(minutes=1)) == []  # nothing written yet: no write per request
    assert len(engine.buffer) == 10
    engine.sync()  # flushes, then tails: its own batch is not applied a second time
    (batch,) = tail(rt, rt.now() - timedelta(minutes=1))
    assert batch.events.num_rows == 10
    assert len(engine.buffer) == 0
    assert engine.stats(note).exposures == 10
    other = ContentEngine(rt, pools=POOLS)
    other.sync()  # another process sees them once they are written
    assert other.stats(note).exposures == 10
    engine.record_engagement(note, 1, "like")  # a consumer-visible count is written at once
    assert len(engine.buffer) == 0
    assert len(tail(rt, rt.now() - timedelta(minutes=1))) == 2


def test_a_flush_that_fails_keeps_its_events_for_the_next_one_and_counts_them_once(
        rt: Runtime, kob: Kob, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = ContentEngine(rt, pools=POOLS, rng=np.random.default_rng(3))
    other = ContentEngine(rt, pools=POOLS)  # another process
    note = do_create_note(rt, kob.creator, title="露营清单", body="轻量装备", category="travel", actor=OP).id
    engine.sync()
    other.sync()
    for c in range(1, 6):
        engine.feed(c, 1)

    def lost(self: Session) -> None:
        raise ConnectionError("the database went away")

    with monkeypatch.context() as m:
        m.setattr(Session, "commit", lost)  # the batch had its id; its commit fails
        with pytest.raises(ConnectionError):
            engine.flush()
    assert tail(rt, rt.now() - timedelta(minutes=1)) == []
    assert len(engine.buffer) == 5
    other.record_engagement(note, 9, "like")  # may take the id the failed batch had (SQLite reuses it)
    engine.feed(6, 1)
    engine.sync()
    assert engine.stats(note).likes == 1  # the other process's batch is applied, not taken for ours
    assert sum(b.events.num_rows for b in tail(rt, rt.now() - timedelta(minutes=1))) == 7
    assert engine.stats(note).exposures == 6
    fresh = ContentEngine(rt, pools=POOLS)
    fresh.sync()
    assert (fresh.stats(note).exposures, fresh.stats(note).likes) == (6, 1)
