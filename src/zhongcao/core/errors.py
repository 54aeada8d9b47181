"""One error type whose fields become the API's problem body and the CLI's one-line message."""

from __future__ import annotations

from typing import Any


class ZhongcaoError(Exception):
    """A refused action. ``code`` is stable: clients switch on it, so never rename one."""

    status = 400

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        field: str | None = None,
        allowed: Any = None,
        status: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.field = field
        self.allowed = allowed
        if status is not None:
            self.status = status

    def to_problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://zhongcao.dev/problems/{self.code}",
            "title": self.code.replace("_", " "),
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if self.field is not None:
            body["field"] = self.field
        if self.allowed is not None:
            body["allowed"] = self.allowed
        return body


class Invalid(ZhongcaoError):
    status = 422


class Unauthenticated(ZhongcaoError):
    status = 401


class Forbidden(ZhongcaoError):
    status = 403


class NotFound(ZhongcaoError):
    status = 404

    def __init__(self, what: str, ident: object) -> None:
        super().__init__(f"{what}_not_found", f"no {what} {ident!r} is visible to you", field=f"{what}_id")


class Conflict(ZhongcaoError):
    status = 409
