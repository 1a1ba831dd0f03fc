"""The service's own ASGI middleware (pure ASGI: nothing buffers a response).

`RequestContext` is the outermost one we can have (only Starlette's
ServerErrorMiddleware is outside it): it gives every request an id, times
it, and turns an unexpected exception into a problem+json 500 without
re-raising it. Re-raising is what made uvicorn close the connection: it
closes the transport of any request whose app raised after the response
began, and ServerErrorMiddleware re-raises after sending its 500. As a
response's status goes out, it queues the access-log entries of a read of
students' records (services/access_records.py): it is the one place that
sees the status the client gets, its own 500 included.

`BodyLimits`, inside it, refuses a body over its size before it is read
whole, and a JSON body nested too deep for the json module.
"""

from __future__ import annotations

import logging
import time
from http import HTTPStatus

from fastapi.concurrency import run_in_threadpool
from prometheus_client import Histogram
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services import requestid
from services.access_records import record_reads
from services.inputs import MAX_JSON_DEPTH
from services.instruments import REQUEST_SECONDS
from services.jsonbody import is_json, nests_deeper_than
from services.problems import problem, too_deep

log = logging.getLogger(__name__)

MiB = 1024 * 1024
EVENTS_BODY_LIMIT = 16 * MiB  # POST /v1/events and /v1/events/backfill: up to 5,000 events
# POST /v1/imports/oneroster: a district's roster as a zip. A generated
# 50,000-student district (bench/oneroster.py) zips to 2.4 MiB; 64 MiB takes
# districts many times that, and the zip may unpack to at most 1 GiB
# (services/imports/oneroster_files.py).
IMPORT_BODY_LIMIT = 64 * MiB
BODY_LIMIT = 1 * MiB  # any other request
# The requests that read their bodies themselves, after the token and the role
# are checked, and their limits.
STREAMED_BODIES = {"/v1/events": EVENTS_BODY_LIMIT, "/v1/imports/oneroster": IMPORT_BODY_LIMIT}
# A body this large is checked in a worker thread: at 1 MiB of brackets the
# check takes some tens of milliseconds, too long to hold up other requests.
_CHECK_OFF_LOOP = 64 * 1024
_REQUEST_ID = requestid.HEADER.lower().encode()
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = requestid.choose(_header(scope, b"x-request-id"))
        bound = requestid.bind(request_id)
        began = time.perf_counter()
        status = 0  # none sent yet

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (_REQUEST_ID, request_id.encode())]
                # Before the answer goes out: its reads of students' records, with this status.
                record_reads(scope, status)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except ClientDisconnect:
            pass  # nobody left to answer
        except Exception:
            log.exception(
                "unexpected error in %s %r, request id %s", scope["method"], scope["path"], request_id
            )
            if status == 0:
                await _internal_error()(scope, receive, send_with_id)
            # Else the response is under way (a streamed export) and can end
            # neither as a 500 nor as a whole body: returning without ending it
            # makes the server close the connection, the one way left to tell
            # the client that what it got is cut short.
        finally:
            requestid.unbind(bound)
            if status:
                _timer(scope, status).observe(time.perf_counter() - began)


# The histogram's child for each (method, route, status): labels() takes a
# lock and builds a key each time, a few microseconds a request.
_TIMERS: dict[tuple[str, str, int], Histogram] = {}


def _timer(scope: Scope, status: int) -> Histogram:
    route = getattr(scope.get("route"), "path", "unrouted")
    method = scope["method"] if scope["method"] in _METHODS else "other"
    key = (method, route, status)
    timer = _TIMERS.get(key)
    if timer is None:
        timer = _TIMERS.setdefault(key, REQUEST_SECONDS.labels(method, route, str(status)))
    return timer


def _internal_error() -> Response:
    return problem(
        500,
        "Internal Server Error",
        "the service failed to answer this request; its log holds the cause under this request id",
    )


class BodyTooLarge(StarletteHTTPException):
    """Raised while a body is read, when it passes its limit. An HTTPException,
    so that FastAPI (which turns any other error reading a body into a 400)
    lets it through to the handler that answers problem+json 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body is larger than {limit // MiB} MiB, the most this request accepts")


def _too_large(limit: int) -> Response:
    exc = BodyTooLarge(limit)
    return problem(exc.status_code, HTTPStatus(exc.status_code).phrase, exc.detail)


class BodyLimits:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        streamed = scope["method"] == "POST" and scope["path"] in STREAMED_BODIES
        # A backfill's batches are batches of events too (read here, as JSON).
        backfill = scope["method"] == "POST" and scope["path"] == "/v1/events/backfill"
        limit = STREAMED_BODIES[scope["path"]] if streamed else EVENTS_BODY_LIMIT if backfill else BODY_LIMIT
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        if streamed or (declared is None and _header(scope, b"transfer-encoding") is None):
            # POST /v1/events and /v1/imports/oneroster read their bodies
            # themselves, after the token and the role are checked (the events
            # parsed with pydantic, services/ingest/api.py). A request with
            # neither a length nor chunks has no body (HTTP/1.1), as most
            # reads: nothing to hold back for them. All are counted as they
            # are read all the same.
            await self.app(scope, _counting(receive, limit), send)
            return
        try:
            body = await _read(receive, limit)
        except BodyTooLarge:
            await _too_large(limit)(scope, receive, send)
            return
        refusal = None
        if body and is_json(_content_type(scope)):
            if len(body) > _CHECK_OFF_LOOP:
                refusal = await run_in_threadpool(_refuse_json, body)
            else:
                refusal = _refuse_json(body)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, _replaying(body, receive), send)


def _content_type(scope: Scope) -> str | None:
    value = _header(scope, b"content-type")
    return None if value is None else value.decode("latin-1")


def _refuse_json(body: bytes) -> Response | None:
    """The 422 for a JSON body nested too deep for FastAPI's parser, or None.
    (One that is not JSON at all gets that parser's 400.)"""
    return too_deep() if nests_deeper_than(body, MAX_JSON_DEPTH) else None


async def _read(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _counting(receive: Receive, limit: int) -> Receive:
    size = 0

    async def counting() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise BodyTooLarge(limit)
        return message

    return counting


def _replaying(body: bytes, receive: Receive) -> Receive:
    """The body read already, then whatever comes next (a disconnect)."""
    replayed = False

    async def replaying() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replaying
