"""The HTTP driver: a request is a batch of one, and every rule lives in the slices below."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import numpy as np
import pyarrow as pa
from fastapi import FastAPI

import zhongcao
from zhongcao import ads, billing, commerce, content, market
from zhongcao.api import (
    accounts_routes,
    ads_routes,
    billing_routes,
    commerce_routes,
    content_routes,
    market_routes,
    problems,
    workers,
)
from zhongcao.api.ingest import Ingester
from zhongcao.core import CODES, Runtime
from zhongcao.events import EventIds

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
    rt = Runtime.from_settings()
    workers.tune_interpreter(rt.settings.serve_switch_interval_ms)
    return create_app(rt)


def _commerce_jobs(rt: Runtime, ids: EventIds, client: httpx.Client, rng: np.random.Generator) -> None:
    """Send due lead webhooks, and cancel orders left unpaid (their stock returns)."""
    commerce.deliver_due(rt, client, rng)
    commerce.expire_unpaid_orders(rt, ids)


def create_app(rt: Runtime, *, money_jobs: bool = True, commerce_jobs: bool | None = None) -> FastAPI:
    """``money_jobs`` runs the background jobs that move money: the lease sweeper, and the ads engine's
    sync, which renews budget leases. ``commerce_jobs`` (default: as ``money_jobs``) sends lead webhooks and
    expires unpaid orders. Tests that count every row drive these jobs themselves."""
    engine = content.ContentEngine(rt)
    ad_engine = ads.AdEngine(rt, engine)
    ingester = Ingester(rt, engine)
    client = httpx.Client()  # lead webhooks: one pool of connections to the CRMs
    rng = np.random.default_rng()  # webhook retry jitter; a server needs no replayable seed for it

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        engine.sync()  # rebuild the index and pool state from State
        pa.array([0])  # pyarrow imports pandas (a second of CPU) on its first conversion: now, not in a flush
        # The libraries and state loaded so far live as long as the process: move them out of the garbage
        # collector's sight, or every full collection rescans them and stalls requests. Once per process:
        # a later app in the same process (tests) would freeze its predecessors' garbage for good.
        gc.collect()
        if not gc.get_freeze_count():
            gc.freeze()
        stop = threading.Event()
        threads = [_every(rt.settings.content_sync_seconds, engine.sync, stop, "content-sync"),
                   _every(rt.settings.events_flush_seconds, engine.flush, stop, "event-flush")]
        if rt.settings.ingest_in_server:
            threads.append(_every(rt.settings.events_ingest_seconds, ingester, stop, "event-ingest"))
        if money_jobs:
            threads.append(_every(rt.settings.lease_sweep_seconds, lambda: _settle_leases(rt), stop, "lease-sweeper"))
            threads.append(_every(rt.settings.ads_sync_seconds, ad_engine.sync, stop, "ads-sync"))
            threads.append(_every(rt.settings.collaboration_sweep_seconds, lambda: market.sweep(rt), stop,
                                  "collaboration-deadlines"))
        if money_jobs if commerce_jobs is None else commerce_jobs:
            threads.append(_every(rt.settings.webhook_seconds, lambda: _commerce_jobs(rt, ad_engine.ids, client, rng),
                                  stop, "commerce-jobs"))
        yield
        stop.set()
        for thread in threads:
            thread.join(timeout=5)
        client.close()
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
    app.state.creators = market.IndexCache(rt)
    problems.install(app)
    # A request is matched against the routes in order, so the serving path (feed, search, clicks) comes
    # first; no two routers' paths overlap, so the order changes nothing else.
    app.include_router(content_routes.router)
    app.include_router(ads_routes.router)
    app.include_router(commerce_routes.router)
    app.include_router(accounts_routes.router)
    app.include_router(billing_routes.router)
    app.include_router(market_routes.router)

    @app.get("/v1/problems", tags=["meta"])
    def problem_codes() -> dict[str, str]:
        """Every stable error ``code`` the API can answer with, and what it means."""
        return CODES

    @app.get("/v1/health", tags=["meta"])
    async def health() -> dict[str, str]:  # async: no thread hop for a liveness probe
        return {"status": "ok", "version": zhongcao.__version__}

    return app
