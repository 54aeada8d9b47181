"""The process that holds the event store: it ingests the outbox and keeps what is derived from events fresh.

DuckDB takes one writing process; whichever opens the file first is the ingester (the file lock is the
election). ``zhongcao serve`` runs it as a process of its own (``zhongcao ingest``) beside the serving
workers, so analytics never take the GIL from a request; a server built without it (tests, a single
embedded process) runs it on a thread.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from datetime import timedelta

import duckdb

from zhongcao import ads, content, events, market
from zhongcao.core import Runtime
from zhongcao.events import EventStore

log = logging.getLogger("zhongcao.ingest")


class Ingester:
    """Moves the event outbox into the event store, folding it into the content rollups, in whichever
    process holds the store's file; that process also publishes the hot queries, the ad reports and the
    behaviour audiences of ad targeting, and folds creators' note traffic into the marketplace's snapshot."""

    def __init__(self, rt: Runtime, engine: content.ContentEngine) -> None:
        self.rt = rt
        self.engine = engine
        self.store: EventStore | None = None
        self._hot_at: float | None = None
        self._reports_at: float | None = None
        self._settled_at: float | None = None
        self._audiences_at: float | None = None
        self._creators_at: float | None = None
        self._lock = threading.Lock()
        self._closed = False

    def __call__(self, *, everything: bool = False) -> None:
        """One tick: ingest the outbox, then recompute what is due. ``everything`` recomputes the hot queries,
        the audiences and today's reports now, whatever is due (a test, a CLI)."""
        self.engine.flush()  # what this process served so far goes in with the rest
        with self._lock:  # the ingest thread and a caller take turns: one DuckDB connection serves both
            if self._closed:
                return
            if self.store is None:
                try:
                    self.store = EventStore(self.rt.settings.resolved_events_path(), threads=1)
                except duckdb.IOException:
                    return  # another process holds the file and ingests; try again next tick
            while events.ingest(self.rt, self.store, fold=self.engine.fold) > 0:
                pass
            now, due = time.monotonic(), self._due
            if everything or due(self._hot_at, self.rt.settings.hot_queries_seconds, now):
                content.refresh_hot_queries(self.rt, self.store)
                self._hot_at = now
            if everything or due(self._audiences_at, self.rt.settings.audiences_seconds, now):
                ads.refresh_audiences(self.rt, self.store, self.engine.notes_about)
                self._audiences_at = now
            if everything or due(self._creators_at, self.rt.settings.creator_stats_seconds, now):
                lag = 0.0 if everything else self.rt.settings.creator_stats_lag_seconds
                market.fold(self.rt, self.store, lag=timedelta(seconds=lag))
                market.refresh(self.rt)
                self._creators_at = now
            if due(self._settled_at, self.rt.settings.reports_settle_seconds, now):
                ads.refresh_reports(self.rt, self.store, days=ads.SETTLE_DAYS)
                self._settled_at = self._reports_at = now
            elif everything or due(self._reports_at, self.rt.settings.reports_seconds, now):
                ads.refresh_reports(self.rt, self.store)
                self._reports_at = now

    @staticmethod
    def _due(last: float | None, every: float, now: float) -> bool:
        return last is None or now - last >= every

    def close(self) -> None:
        """Let a tick in progress finish first (DuckDB refuses a connection busy with another call, and a
        tick may outlast the server's wait for its thread), and open nothing after."""
        with self._lock:
            self._closed = True
            if self.store is not None:
                self.store.close()
                self.store = None


def run(rt: Runtime, parent: int | None = None) -> None:
    """Tick until stopped (SIGTERM or SIGINT), or, given the ``parent`` process that started this one, until
    it is gone: a server killed outright must not leave its ingester behind, holding the store and the
    outbox of whatever database it pointed at. The parent is named by the caller, because it may die before
    this process has started."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    engine = content.ContentEngine(rt)
    ingester = Ingester(rt, engine)
    try:
        while not stop.wait(rt.settings.events_ingest_seconds):
            if parent is not None and os.getppid() != parent:
                break  # the server died without stopping us: let the next one's ingester take the store
            try:
                engine.sync()  # notes, for the audiences' keyword matches
                ingester()
            except Exception:
                log.exception("ingest failed; retrying next tick")
    finally:
        ingester.close()
