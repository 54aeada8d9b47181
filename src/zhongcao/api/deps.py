"""Request-scoped dependencies: the runtime and the acting principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from zhongcao.accounts import Actor, authenticate
from zhongcao.core import Runtime


async def runtime(request: Request) -> Runtime:
    """Async on purpose: FastAPI runs sync dependencies in the threadpool, a hop this needs no more than
    a dict lookup does."""
    rt: Runtime = request.app.state.runtime
    return rt


def actor(request: Request, authorization: Annotated[str | None, Header()] = None) -> Actor:
    token = None
    if authorization and authorization[:7].lower() == "bearer ":
        token = authorization[7:].strip()
    return authenticate(request.app.state.runtime, token)


RT = Annotated[Runtime, Depends(runtime)]
Who = Annotated[Actor, Depends(actor)]
