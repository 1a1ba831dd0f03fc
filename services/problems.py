"""Errors as RFC 9457 problem+json (CONTRACT.md §2): the one shape every
refusal and failure is answered in, and the handlers that give FastAPI's own
errors that shape."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.records import RECORD_TYPES
from services import requestid
from services.errors import NotReady, ProblemError, error
from services.inputs import JSON_TOO_DEEP
from services.verify import StreamBroken

PROBLEM = "application/problem+json"

# The answer of a read that replays a student's stream when the stream fails
# verification (services/verify.py): the routes that replay declare it.
STREAM_BROKEN_ANSWER: dict[int | str, dict[str, Any]] = {
    409: {
        "description": "the student's stored history fails verification (an event altered, missing or "
        "reordered in the event log): nothing of it is presented; `stream_id`, `version` and `event_id` "
        "name the first event that does not verify"
    }
}


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    if (request_id := requestid.current()) is not None:
        body["request_id"] = request_id  # the one in X-Request-ID and in the log
    headers = extra.pop("headers", None) if "headers" in extra else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def too_deep() -> JSONResponse:
    return problem(
        422, "Unprocessable Content", f"body: {JSON_TOO_DEEP}", errors=[error(["body"], JSON_TOO_DEEP)]
    )


def _clean_loc(loc: tuple[Any, ...]) -> list[Any]:
    # Pydantic puts the union tag into the path (events.3.attempt.score); users
    # know the event by index, so the tag is dropped.
    out = list(loc)
    return [p for i, p in enumerate(out) if not (p in RECORD_TYPES and i > 0 and isinstance(out[i - 1], int))]


def _loc(err: dict[str, Any]) -> list[Any]:
    loc = _clean_loc(tuple(err["loc"]))
    if err.get("type") in ("union_tag_invalid", "union_tag_not_found"):
        # An unknown or missing `type` is reported at the event; name the field itself.
        loc.append(str(err.get("ctx", {}).get("discriminator", "type")).strip("'"))
    return loc


def _msg(err: dict[str, Any]) -> str:
    msg = str(err.get("msg", "invalid"))
    return msg.removeprefix("Value error, ")


# Given the request (for the app's adapters) and the body that failed validation.
SchemaFollowUp = Callable[[Request, Any], list[dict[str, Any]]]


def _by_event(err: dict[str, Any]) -> tuple[int, int]:
    loc = err["loc"]
    # ["body", "events", i, ...] sorts by i; anything about the whole body first.
    return (loc[2] if len(loc) > 2 and isinstance(loc[2], int) else -1, len(loc))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(_req: Request, exc: ProblemError) -> JSONResponse:
        extra: dict[str, Any] = {}
        if exc.errors is not None:
            extra["errors"] = exc.errors
        resp = problem(exc.status, exc.title, exc.detail, **extra)
        if exc.status == 503:
            resp.headers["Retry-After"] = "1"
        if isinstance(exc, NotReady):
            resp.headers["X-Projection-Position"] = str(exc.position)
        return resp

    @app.exception_handler(StreamBroken)
    async def _broken(_req: Request, exc: StreamBroken) -> JSONResponse:
        found = exc.found
        return problem(
            409,
            "Conflict",
            f"the stored history does not verify: {found}",
            stream_id=str(found.stream),
            version=found.version,
            event_id=found.event_id,
            kind=found.kind,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(req: Request, exc: RequestValidationError) -> JSONResponse:
        raw = exc.errors()
        broken = [e for e in raw if e.get("type") == "json_invalid"]
        if broken:
            # Not JSON at all: 422 is for well-formed JSON that is invalid (CONTRACT.md §2).
            why = str(broken[0].get("ctx", {}).get("error", "malformed"))
            return problem(400, "Bad Request", f"the request body is not valid JSON: {why}")
        errors = [{"loc": _loc(e), "msg": _msg(e)} for e in raw]
        # Routes may check what passed the schema against the store too, so one
        # 422 lists every invalid event rather than one kind at a time.
        more: SchemaFollowUp | None = getattr(req.app.state, "schema_follow_up", {}).get(req.url.path)
        if more is not None and req.method == "POST":
            errors += await run_in_threadpool(more, req, exc.body)
            errors.sort(key=_by_event)
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:5])
        return problem(422, "Unprocessable Content", detail or "invalid request", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException) -> JSONResponse:
        resp = problem(exc.status_code, _title(exc.status_code), str(exc.detail))
        for k, v in (exc.headers or {}).items():
            resp.headers[k] = v
        return resp


def document_request_bodies(app: FastAPI, models: Sequence[type[BaseModel]]) -> None:
    """Put the schemas of request bodies that endpoints read and validate
    themselves (FastAPI does not see them) into the OpenAPI components, where
    the endpoints' `openapi_extra` refers to them."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in models:
                own = model.model_json_schema(ref_template="#/components/schemas/{model}")
                for name, definition in own.pop("$defs", {}).items():
                    components.setdefault(name, definition)
                components.setdefault(model.__name__, own)
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
