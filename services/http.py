"""HTTP plumbing shared by the services: auth, problem+json errors, read positions."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

import orjson
from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Engine, Executable, select, union
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.records import RECORD_TYPES
from infra.eventstore import LedgerStore
from infra.readmodels import classes, enrolments, students
from infra.readstore import reached_position
from infra.tokens import Principal, TokenStore
from services import requestid
from services.catalog import Catalog
from services.errors import Forbidden, NotReady, ProblemError, error
from services.inputs import JSON_TOO_DEEP, Position
from services.waiting import PositionWatcher, TooManyWaiting

PROBLEM = "application/problem+json"
MIN_POSITION_WAIT = 5.0


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
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class Adapters(Protocol):
    """What the shared plumbing and the routes take from the process's
    composition root (services.bootstrap.Ledger, in `app.state.ledger`).
    Neither may import it: it imports every service, and no service may
    import another (pyproject.toml's independence contract). services/app.py
    holds the Ledger to this protocol."""

    store: LedgerStore
    catalog: Catalog
    tokens: TokenStore
    engine: Engine  # the read models, read and written
    reader: Engine  # what requests read through (ReadDep)

    @property
    def projection_names(self) -> list[str]: ...


def adapters(request: Request) -> Adapters:
    found: Adapters = request.app.state.ledger
    return found


# The narrow dependencies routes take: each the one adapter it uses. async: a
# dependency this cheap is not worth a trip to the thread pool.


async def _event_store(request: Request) -> LedgerStore:
    return adapters(request).store


async def _catalog(request: Request) -> Catalog:
    return adapters(request).catalog


async def _tokens(request: Request) -> TokenStore:
    return adapters(request).tokens


async def _read_models(request: Request) -> Engine:
    return adapters(request).engine


EventStoreDep = Annotated[LedgerStore, Depends(_event_store)]
CatalogDep = Annotated[Catalog, Depends(_catalog)]
TokensDep = Annotated[TokenStore, Depends(_tokens)]
ReadModelsDep = Annotated[Engine, Depends(_read_models)]


def authenticate(request: Request, tokens: TokenStore, conn: Connection | None = None) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise StarletteHTTPException(401, "a bearer token is required", {"WWW-Authenticate": "Bearer"})
    principal = tokens.authenticate(token.strip(), conn)
    if principal is None:
        raise StarletteHTTPException(401, "unknown, revoked or expired token", {"WWW-Authenticate": "Bearer"})
    request.state.principal = principal
    return principal


def get_principal(request: Request, tokens: TokensDep) -> Principal:
    """The caller of a write (reads get theirs from `ReadDep`)."""
    return authenticate(request, tokens)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_role(principal: Principal, *roles: str) -> None:
    if principal.role not in roles:
        raise Forbidden(f"role {principal.role!r} may not do this")


def role_in(*roles: str) -> Callable[[Principal], Principal]:
    """A dependency admitting these roles. As a dependency it runs before the
    body is validated, so a role that may not write gets 403 whatever it sent."""

    def admit(who: PrincipalDep) -> Principal:
        require_role(who, *roles)
        return who

    return admit


def scoped_students(read_models: Engine | Connection, principal: Principal) -> set[str] | None:
    """The students a principal may see; None means all of them.
    `read_models`: the request's read connection, if it has one, else the
    engine to take one from when the answer needs a query.

    A teacher sees the students enrolled in its classes; a leader those of its
    schools: registered at one, or enrolled in a class of one (a principal
    reads the class maps of its school, whoever sits in them)."""
    if principal.role in ("admin", "auditor"):
        return None
    ids = set(principal.scoped("student"))
    query: Executable | None = None
    if principal.role == "teacher":
        query = select(enrolments.c.student_id).where(enrolments.c.class_id.in_(principal.scoped("class")))
    elif principal.role == "leader":
        schools = principal.scoped("school")
        query = union(
            select(students.c.student_id).where(students.c.school_id.in_(schools)),
            select(enrolments.c.student_id)
            .join(classes, classes.c.class_id == enrolments.c.class_id)
            .where(classes.c.school_id.in_(schools)),
        )
    if query is not None:
        if isinstance(read_models, Connection):
            ids |= set(read_models.execute(query).scalars())
        else:
            with read_models.connect() as own:
                ids |= set(own.execute(query).scalars())
    if principal.role in ("student", "guardian", "teacher", "leader"):
        return ids
    return set()  # analyst, ingest: nothing that names a student


@dataclass(frozen=True)
class ReadSession:
    """What every read shares: who asks, the position the read models had
    reached when it began (X-Projection-Position), and one read-model
    connection for all of its queries."""

    conn: Connection
    who: Principal
    position: int


MinPosition = Annotated[Position | None, Query(description="wait until read models reach this log position")]


@dataclass(frozen=True)
class _Behind:
    """A read whose read models are behind its `min_position`: who asks and
    where they stand. It holds no connection while it waits."""

    who: Principal
    position: int


def _begin_read(
    request: Request, ledger: Adapters, min_position: int | None, who: Principal | None = None
) -> ReadSession | _Behind:
    try:
        return _try_read(request, ledger, min_position, who)
    except DBAPIError as e:
        # The reader pool does not ping before each checkout; a connection the
        # database dropped (a restart) fails on its first statement, and the
        # pool drops every connection as old as it. Once more, on a fresh one.
        if not e.connection_invalidated:
            raise
        return _try_read(request, ledger, min_position, who)


def _try_read(
    request: Request, ledger: Adapters, min_position: int | None, who: Principal | None
) -> ReadSession | _Behind:
    # One connection, in autocommit and without a pre-ping (ledger.reader):
    # a checkout with a ping costs a round trip, a transaction two more
    # (BEGIN, ROLLBACK), and reads need neither: each statement sees committed
    # rows either way (READ COMMITTED takes a snapshot per statement). On a
    # busy machine each round trip may wait for the database process to be
    # scheduled, so they are what a read's p99 is made of.
    conn = ledger.reader.connect()
    try:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        if who is None:
            who = authenticate(request, ledger.tokens, conn)
        # Read before the endpoint's own queries, it is a floor: what they
        # read reflects at least this position.
        position = reached_position(conn, ledger.projection_names)
        if min_position is not None and position < min_position:
            conn.close()  # the wait holds no connection (see open_read)
            return _Behind(who, position)
        return ReadSession(conn, who, position)
    except BaseException:
        conn.close()
        raise


async def _read_when_reached(
    request: Request, ledger: Adapters, behind: _Behind, min_position: int
) -> ReadSession:
    """Wait on the event loop, holding neither a thread nor a connection, until
    the read models reach `min_position`, then open the read."""
    watcher: PositionWatcher = request.app.state.waiting
    deadline = time.monotonic() + MIN_POSITION_WAIT
    while True:
        try:
            reached = await watcher.wait_for(min_position, deadline - time.monotonic())
        except TooManyWaiting:
            raise NotReady(
                "too many reads wait for the read models in this process "
                f"(at most {watcher.limit}, MASTERY_MAX_WAITING_READS); retry shortly",
                position=behind.position,
            ) from None
        if not reached:
            raise NotReady(
                f"read models have not reached position {min_position} within {MIN_POSITION_WAIT:g} s",
                position=max(watcher.position, behind.position),
            )
        read = await run_in_threadpool(_begin_read, request, ledger, min_position, behind.who)
        if isinstance(read, ReadSession):
            return read
        behind = read  # the watcher saw it reached; this connection not yet: wait on


async def open_read(
    request: Request, response: Response, min_position: MinPosition = None
) -> AsyncIterator[ReadSession]:
    """Authenticates and reads the position in one trip to the thread pool:
    FastAPI runs every sync dependency in a trip of its own, and each costs as
    much as a query. A read whose `min_position` the read models have not
    reached gives its connection back and waits for it (up to 5 s, else 503)
    on the event loop (services/waiting.py), then takes a second trip."""
    ledger = adapters(request)
    read = await run_in_threadpool(_begin_read, request, ledger, min_position)
    if isinstance(read, _Behind):
        assert min_position is not None
        read = await _read_when_reached(request, ledger, read, min_position)
    response.headers["X-Projection-Position"] = str(read.position)
    try:
        yield read
    finally:
        # No I/O, so no trip to the thread pool: in autocommit there is no
        # transaction to roll back, and the pool's reset is local state.
        read.conn.close()


ReadDep = Annotated[ReadSession, Depends(open_read)]


def json_response(body: Any, position: int, model: type[BaseModel] | None = None) -> Response:
    """A read's answer serialised once, by orjson, with X-Projection-Position.

    Returning a Response skips FastAPI's validation of the return value
    against the route's `response_model` (which stays declared, for
    /openapi.json) and its serialisation; on a class map of a thousand cells,
    or the 5,000 rows of an audit history, those cost several times what the
    queries do. See `render_json` for the bytes.
    """
    return Response(
        render_json(body, model),
        media_type="application/json",
        headers={"X-Projection-Position": str(position)},
    )


def render_json(body: Any, model: type[BaseModel] | None = None) -> bytes:
    """`body`, a document the code built in a response model's shape, as
    `model.model_validate(body).model_dump_json()` writes it.

    orjson's output for these types (strings, numbers, booleans, null, lists,
    dicts, datetimes with `Z` for UTC) is byte for byte pydantic's;
    tests/unit/test_rendering.py and tests/integration/test_read_json.py hold
    the two to that. (They round an offset with seconds differently; no such
    offset gets in: ingest and the query parameters accept whole minutes
    only.) What orjson refuses (an integer beyond 64 bits in a payload) goes
    through `model`, when given.
    """
    try:
        return orjson.dumps(body, option=orjson.OPT_UTC_Z)
    except orjson.JSONEncodeError:
        if model is None:
            raise
        return model.model_validate(body).model_dump_json().encode()
