"""Request-scoped dependencies: the runtime and the acting principal."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, Request
from starlette.concurrency import run_in_threadpool

from zhongcao.accounts import Actor, authenticate
from zhongcao.core import Runtime


async def runtime(request: Request) -> Runtime:
    """Async on purpose: FastAPI runs sync dependencies in the threadpool, a hop this needs no more than
    a dict lookup does."""
    rt: Runtime = request.app.state.runtime
    return rt


async def actor(request: Request, authorization: Annotated[str | None, Header()] = None) -> Actor:
    """Async, so a route served on the event loop pays no thread hop to learn who calls. Only an API key
    needs State, and it is looked up on the threadpool; a missing token and the bootstrap admin token
    are answered here."""
    token = None
    if authorization and authorization[:7].lower() == "bearer ":
        token = authorization[7:].strip()
    rt: Runtime = request.app.state.runtime
    admin = rt.settings.admin_token
    if not token or (admin and hmac.compare_digest(token.encode(), admin.encode())):
        return authenticate(rt, token)
    return await run_in_threadpool(authenticate, rt, token)


RT = Annotated[Runtime, Depends(runtime)]
Who = Annotated[Actor, Depends(actor)]
