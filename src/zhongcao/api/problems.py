"""Every error leaves as RFC 9457 problem JSON with a stable ``code``, the field, and what is allowed."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from zhongcao.core import ZhongcaoError

log = logging.getLogger("zhongcao.api")

PROBLEM = "application/problem+json"


def problem(status: int, code: str, detail: str, *, field: str | None = None, allowed: Any = None) -> JSONResponse:
    return JSONResponse(ZhongcaoError(code, detail, field=field, allowed=allowed, status=status).to_problem(),
                        status_code=status, media_type=PROBLEM)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(ZhongcaoError)
    async def _domain(_: Request, exc: ZhongcaoError) -> JSONResponse:
        return JSONResponse(exc.to_problem(), status_code=exc.status, media_type=PROBLEM)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        field = _field(tuple(first.get("loc", ())))
        allowed = first.get("ctx", {}).get("expected") or first.get("msg")
        return problem(422, "invalid_request", f"{field}: {first.get('msg')}", field=field, allowed=str(allowed))

    @app.exception_handler(Exception)
    async def _crash(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return problem(500, "internal_error", "the server failed; the request changed nothing")

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        code = {404: "route_not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return problem(exc.status_code, code, str(exc.detail))
