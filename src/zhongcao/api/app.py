"""The HTTP driver: a request is a batch of one, and every rule lives in the slices below."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import zhongcao
from zhongcao import billing
from zhongcao.api import accounts_routes, billing_routes, problems
from zhongcao.core import CODES, Runtime

log = logging.getLogger("zhongcao.api")


def _sweep_leases(rt: Runtime, stop: threading.Event) -> None:
    """Expired leases return their unspent money even if their process died."""
    batch = 500
    while not stop.wait(rt.settings.lease_sweep_seconds):
        try:
            while billing.settle_expired_leases(rt, limit=batch) == batch and not stop.is_set():
                pass  # a backlog (say, after downtime) drains now, not one batch per tick
        except Exception:
            log.exception("lease sweep failed; retrying next tick")


def app_from_environment() -> FastAPI:
    """The factory ``zhongcao serve --workers N`` hands to uvicorn: each worker process builds its own
    runtime from the environment. Processes share nothing but the database, so they scale out."""
    return create_app(Runtime.from_settings())


def create_app(rt: Runtime, *, sweep_leases: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        sweeper = threading.Thread(target=_sweep_leases, args=(rt, stop), daemon=True, name="lease-sweeper")
        if sweep_leases:
            sweeper.start()
        yield
        stop.set()
        if sweep_leases:
            sweeper.join(timeout=5)

    app = FastAPI(
        title="zhongcao",
        version=zhongcao.__version__,
        description="种草: social-commerce marketing on one closed loop. Money is integer fen; errors are "
        "RFC 9457 problem JSON with a stable `code`.",
        lifespan=lifespan,
    )
    app.state.runtime = rt
    problems.install(app)
    app.include_router(accounts_routes.router)
    app.include_router(billing_routes.router)

    @app.get("/v1/problems", tags=["meta"])
    def problem_codes() -> dict[str, str]:
        """Every stable error ``code`` the API can answer with, and what it means."""
        return CODES

    @app.get("/v1/health", tags=["meta"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": zhongcao.__version__}

    return app
