"""`GET /health`, `GET /ready` and `GET /metrics`: answered without a token
(CONTRACT.md §2), so none of them names a path, a host or anything stored.

`Ops` (on `app.state.ops`) holds what /ready asks and what /metrics samples;
other parts of the service add to its lists, e.g.

    app.state.ops.checks.append(Check("projections", stuck_projections))
    app.state.ops.samplers.append(set_aside_counts)

where `stuck_projections(ledger)` returns None when all is well, else a
short sentence for the 503, and `set_aside_counts(ledger)` yields
prometheus_client metric families.

Both ask the stores, which may not answer: a PostgreSQL that refuses
connections kept the event store's pool waiting 37 s. So each question
runs in a worker thread and is waited for at most `ANSWER_WITHIN` seconds,
and one still waiting for its reply is not asked again until it has one:
however often probes come, a store that does not reply holds one thread.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import anyio
import anyio.to_thread
from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import Metric
from pydantic import BaseModel
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.bootstrap import Ledger
from services.http import get_principal
from services.metrics import (
    Sampler,
    access_log_writes,
    events_set_aside,
    exposition,
    log_head,
    projection_positions,
    sample,
)
from services.problems import problem

log = logging.getLogger(__name__)

ANSWER_WITHIN = 2.0
T = TypeVar("T")


class NoAnswer(Exception):
    """No answer within ANSWER_WITHIN seconds, or the last question still has none."""


class OneAtATime(Generic[T]):
    """A blocking question asked in a worker thread, at most one at a time."""

    def __init__(self) -> None:
        self._asking = threading.Lock()

    async def ask(self, question: Callable[[], T]) -> T:
        """The answer; NoAnswer when there is none in time. Exceptions pass through."""

        def asked() -> T:
            # Taken in the worker thread, so that a question cancelled before
            # its thread ran leaves nothing locked.
            if not self._asking.acquire(blocking=False):
                raise NoAnswer
            try:
                return question()
            finally:
                self._asking.release()

        with anyio.move_on_after(ANSWER_WITHIN):
            return await anyio.to_thread.run_sync(asked, abandon_on_cancel=True)
        raise NoAnswer


@dataclass(frozen=True)
class Check:
    """One thing /ready asks. `run` returns None when it holds, else why not,
    in words fit for anyone (no paths, hosts or data); an exception it
    raises, or no answer in time, reads as "<name> does not answer" (the
    exception goes to the log)."""

    name: str
    run: Callable[[Ledger], str | None]
    _asker: OneAtATime[str | None] = field(default_factory=OneAtATime, init=False, compare=False, repr=False)

    async def failure(self, ledger: Ledger) -> str | None:
        unanswered = f"{self.name} does not answer"

        def run() -> str | None:
            try:
                return self.run(ledger)
            except Exception:
                log.warning("readiness: %s", unanswered, exc_info=True)
                return unanswered

        try:
            return await self._asker.ask(run)
        except NoAnswer:
            return f"{unanswered} within {ANSWER_WITHIN:g} s"


def _event_store(ledger: Ledger) -> str | None:
    ledger.store.head_position()
    return None


def _read_store(ledger: Ledger) -> str | None:
    for engine in {ledger.engine, ledger.reader}:  # one engine on SQLite, two pools on PostgreSQL
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    return None


def _trust_store(ledger: Ledger) -> str | None:
    with ledger.trust.connect() as conn:
        conn.execute(text("SELECT 1"))
    return None


def _nothing_set_aside(ledger: Ledger) -> str | None:
    """Set-aside events (services/projections/parked.py) leave the read models
    short of them, and of every later event of their streams, until a retry."""
    parked = {name: n for name, n in ledger.runner.parked().items() if n}
    if not parked:
        return None
    each = ", ".join(f"{name} {n} event{'s' if n > 1 else ''}" for name, n in sorted(parked.items()))
    return f"projections have set events aside ({each}); `mastery projections retry` applies them after a fix"


@dataclass
class Ops:
    role: str  # the process's (`mastery serve --role`)
    checks: list[Check] = field(
        default_factory=lambda: [
            Check("event store", _event_store),
            Check("read store", _read_store),
            Check("trust store", _trust_store),
            Check("projections", _nothing_set_aside),
        ]
    )
    samplers: list[Sampler] = field(
        default_factory=lambda: [log_head, projection_positions, events_set_aside, access_log_writes]
    )
    sampling: OneAtATime[list[Metric]] = field(default_factory=OneAtATime)


def install_ops(app: FastAPI, role: str) -> Ops:
    app.state.ops = ops = Ops(role)
    app.include_router(router)
    return ops


class Alive(BaseModel):
    status: str = "alive"
    # With a valid token only: which process answered, in which role, at which log position.
    role: str | None = None
    pid: int | None = None
    position: int | None = None


class Ready(BaseModel):
    status: str = "ready"
    checks: list[str]


router = APIRouter(tags=["ops"])


@router.get("/health", response_model=Alive, response_model_exclude_none=True)
def health(request: Request) -> Alive:
    """The process is alive. Without a valid token that is all it says; with
    one (any role) it adds its role, pid and log head (`--workers N` tests
    tell processes apart by pid). An invalid token is not an error here: a
    liveness probe does not depend on credentials."""
    ledger: Ledger = request.app.state.ledger
    try:
        get_principal(request, ledger.tokens)
    except StarletteHTTPException:
        return Alive()
    ops: Ops = request.app.state.ops
    return Alive(role=ops.role, pid=os.getpid(), position=ledger.store.head_position())


@router.get(
    "/ready",
    response_model=Ready,
    responses={503: {"description": "a dependency does not answer, or is stuck; `detail` says which"}},
)
async def ready(request: Request) -> Any:
    ops: Ops = request.app.state.ops
    ledger: Ledger = request.app.state.ledger
    failed: dict[str, str] = {}

    async def ask(check: Check) -> None:
        if (why := await check.failure(ledger)) is not None:
            failed[check.name] = why

    async with anyio.create_task_group() as group:
        for check in ops.checks:
            group.start_soon(ask, check)
    if failed:
        why = "; ".join(failed[c.name] for c in ops.checks if c.name in failed)
        resp = problem(503, "Service Unavailable", f"not ready: {why}")
        resp.headers["Retry-After"] = "5"
        return resp
    return Ready(checks=[c.name for c in ops.checks])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
async def metrics(request: Request) -> Response:
    ops: Ops = request.app.state.ops
    ledger: Ledger = request.app.state.ledger
    try:
        sampled = await ops.sampling.ask(lambda: sample(ledger, ops.samplers))
    except NoAnswer:
        log.warning(
            "metrics: the stores gave no answer within %g s; sent without their samples", ANSWER_WITHIN
        )
        sampled = []
    return Response(exposition(sampled), media_type=CONTENT_TYPE_LATEST)
