"""HTTP plumbing shared by the services: their adapters, authentication and
scope, and the read session (position, waiting, one connection); errors are
in services/problems.py."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

import orjson
from fastapi import Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import Engine, Executable, select, union
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from infra.access_log import AccessRecorder
from infra.eventstore import LedgerStore
from infra.keys import StudentKeys
from infra.readmodels import classes, enrolments, students
from infra.tokens import Principal, TokenStore
from services.catalog import Catalog
from services.errors import Forbidden, NotReady
from services.inputs import Position
from services.session import SESSION_COOKIE, session_principal
from services.waiting import PositionWatcher, TooManyWaiting

MIN_POSITION_WAIT = 5.0


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
    trust: Engine  # the trust store: keys, secrets, tokens, access log (infra/trust.py)
    keys: StudentKeys  # students' keys, to open their personal data
    access: AccessRecorder  # queues access-log entries for the trust store (infra/access_log.py)

    def read_position(self, conn: Connection) -> int:
        """The log position the read models reflect (the tailer's, or every Kafka partition's)."""
        ...


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


async def _trust(request: Request) -> Engine:
    return adapters(request).trust


async def _keys(request: Request) -> StudentKeys:
    return adapters(request).keys


EventStoreDep = Annotated[LedgerStore, Depends(_event_store)]
CatalogDep = Annotated[Catalog, Depends(_catalog)]
TokensDep = Annotated[TokenStore, Depends(_tokens)]
ReadModelsDep = Annotated[Engine, Depends(_read_models)]
TrustDep = Annotated[Engine, Depends(_trust)]
KeysDep = Annotated[StudentKeys, Depends(_keys)]


def authenticate(request: Request, tokens: TokenStore) -> Principal:
    """The caller: its bearer token, else the dashboards' session cookie
    (services/session.py), which a write must back with its CSRF token."""
    header = request.headers.get("authorization")
    if header is None and SESSION_COOKIE in request.cookies:
        who = session_principal(request, tokens)
        request.state.principal = who
        return who
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise StarletteHTTPException(401, "a bearer token is required", {"WWW-Authenticate": "Bearer"})
    principal = tokens.authenticate(token.strip())
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
            who = authenticate(request, ledger.tokens)
        # Read before the endpoint's own queries, it is a floor: what they
        # read reflects at least this position.
        position = ledger.read_position(conn)
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
