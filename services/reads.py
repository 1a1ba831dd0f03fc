"""The read session every read endpoint takes (`ReadDep`): who asks, the
position the read models had reached (X-Projection-Position), waiting for
`?min_position=` without holding a thread or a connection, and one read
connection; and the answer serialised once (`json_response`)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from infra.tokens import Principal
from services.errors import NotReady
from services.http import Adapters, adapters, authenticate
from services.inputs import Position
from services.waiting import PositionWatcher, TooManyWaiting

MIN_POSITION_WAIT = 5.0  # seconds a read waits for ?min_position= before its 503


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
