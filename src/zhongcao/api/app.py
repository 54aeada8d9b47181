"""The HTTP driver: a request is a batch of one, and every rule lives in the slices below."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import duckdb
from fastapi import FastAPI

import zhongcao
from zhongcao import ads, billing, content, events
from zhongcao.api import accounts_routes, ads_routes, billing_routes, content_routes, problems
from zhongcao.core import CODES, Runtime
from zhongcao.events import EventStore

log = logging.getLogger("zhongcao.api")


def _every(seconds: float, job: Callable[[], object], stop: threading.Event, name: str) -> threading.Thread:
    def loop() -> None:
        while not stop.wait(seconds):
            try:
                job()
            except Exception:
                log.exception("%s failed; retrying next tick", name)

    thread = threading.Thread(target=loop, daemon=True, name=name)
    thread.start()
    return thread


def _settle_leases(rt: Runtime) -> None:
    """Expired leases return their unspent money even if their process died; a backlog drains at once."""
    batch = 500
    while billing.settle_expired_leases(rt, limit=batch) == batch:
        pass


def app_from_environment() -> FastAPI:
    """The factory ``zhongcao serve --workers N`` hands to uvicorn: each worker process builds its own
    runtime from the environment. Processes share nothing but the database, so they scale out."""
    return create_app(Runtime.from_settings())


class _Ingester:
    """Moves the event outbox into the event store, folding it into the content rollups, in whichever
    process holds the store's file; that process also publishes the hot queries, the ad reports and the
    behaviour audiences of ad targeting."""

    def __init__(self, rt: Runtime, engine: content.ContentEngine) -> None:
        self.rt = rt
        self.engine = engine
        self.store: EventStore | None = None
        self._hot_at: float | None = None
        self._reports_at: float | None = None
        self._settled_at: float | None = None
        self._audiences_at: float | None = None
        self._lock = threading.Lock()

    def __call__(self, *, everything: bool = False) -> None:
        """One tick: ingest the outbox, then recompute what is due. ``everything`` recomputes the hot queries,
        the audiences and today's reports now, whatever is due (a test, a CLI)."""
        if self.store is None:
            try:
                self.store = EventStore(self.rt.settings.resolved_events_path(), threads=1)
            except duckdb.IOException:
                return  # another process holds the file and ingests; try again next tick
        self.engine.flush()  # what this process served so far goes in with the rest
        with self._lock:  # the ingest thread and a caller take turns: one DuckDB connection serves both
            while events.ingest(self.rt, self.store, fold=self.engine.fold) > 0:
                pass
            now, due = time.monotonic(), self._due
            if everything or due(self._hot_at, self.rt.settings.hot_queries_seconds, now):
                content.refresh_hot_queries(self.rt, self.store)
                self._hot_at = now
            if everything or due(self._audiences_at, self.rt.settings.audiences_seconds, now):
                ads.refresh_audiences(self.rt, self.store, self.engine.notes_about)
                self._audiences_at = now
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
        if self.store is not None:
            self.store.close()


def create_app(rt: Runtime, *, money_jobs: bool = True) -> FastAPI:
    """``money_jobs`` runs the background jobs that move money: the lease sweeper, and the ads engine's
    sync, which renews budget leases. Tests that count every ledger row drive both themselves."""
    engine = content.ContentEngine(rt)
    ad_engine = ads.AdEngine(rt, engine)
    ingester = _Ingester(rt, engine)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        engine.sync()  # rebuild the index and pool state from State
        # The libraries and state loaded so far live as long as the process: move them out of the garbage
        # collector's sight, or every full collection rescans them and stalls requests.
        gc.collect()
        gc.freeze()
        stop = threading.Event()
        threads = [_every(rt.settings.content_sync_seconds, engine.sync, stop, "content-sync"),
                   _every(rt.settings.events_flush_seconds, engine.flush, stop, "event-flush")]
        threads.append(_every(rt.settings.events_ingest_seconds, ingester, stop, "event-ingest"))
        if money_jobs:
            threads.append(_every(rt.settings.lease_sweep_seconds, lambda: _settle_leases(rt), stop, "lease-sweeper"))
            threads.append(_every(rt.settings.ads_sync_seconds, ad_engine.sync, stop, "ads-sync"))
        yield
        stop.set()
        for thread in threads:
            thread.join(timeout=5)
        engine.flush()
        ad_engine.close()  # hand the leases back: their unspent money is available again at once
        ingester.close()

    app = FastAPI(
        title="zhongcao",
        version=zhongcao.__version__,
        description="种草: social-commerce marketing on one closed loop. Money is integer fen; errors are "
        "RFC 9457 problem JSON with a stable `code`.",
        lifespan=lifespan,
    )
    app.state.runtime = rt
    app.state.content = engine
    app.state.ads = ad_engine
    app.state.ingester = ingester
    problems.install(app)
    app.include_router(accounts_routes.router)
    app.include_router(billing_routes.router)
    app.include_router(content_routes.router)
    app.include_router(ads_routes.router)

    @app.get("/v1/problems", tags=["meta"])
    def problem_codes() -> dict[str, str]:
        """Every stable error ``code`` the API can answer with, and what it means."""
        return CODES

    @app.get("/v1/health", tags=["meta"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": zhongcao.__version__}

    return app
