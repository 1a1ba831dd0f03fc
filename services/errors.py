"""Errors the services raise; the HTTP layer renders them as problem+json."""

from __future__ import annotations

from typing import Any


class ProblemError(Exception):
    status = 400
    title = "Bad Request"

    def __init__(self, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class InvalidInput(ProblemError):
    status = 422
    title = "Unprocessable Content"


class Conflict(ProblemError):
    status = 409
    title = "Conflict"


class NotFound(ProblemError):
    status = 404
    title = "Not Found"


class Forbidden(ProblemError):
    status = 403
    title = "Forbidden"


class Busy(ProblemError):
    """A write that could not be made now and stored nothing: try again."""

    status = 503
    title = "Service Unavailable"


class NotReady(ProblemError):
    status = 503
    title = "Service Unavailable"

    def __init__(self, detail: str, position: int) -> None:
        super().__init__(detail)
        self.position = position


def error(loc: list[str | int], msg: str) -> dict[str, Any]:
    return {"loc": loc, "msg": msg}
