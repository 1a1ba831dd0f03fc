"""`GET /health`, `GET /ready` and `GET /metrics`: answered without a token
(CONTRACT.md §2), so none of them names a path, a host or anything stored.

`Ops` (on `app.state.ops`) holds what /ready asks and what /metrics samples;
other parts of the service add to its lists, e.g.

    app.state.ops.checks.append(Check("projections", stuck_projections))
    app.state.ops.samplers.append(set_aside_counts)

where `stuck_projections(ledger)` returns None when all is well, else a
short sentence for the 503, and `set_aside_counts(ledger)` yields
prometheus_client metric families.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pydantic import BaseModel
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.bootstrap import Ledger
from services.http import get_principal, problem
from services.metrics import Sampler, log_head, projection_positions, registry_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    """One thing /ready asks. `run` returns None when it holds, else why not,
    in words fit for anyone (no paths, hosts or data); an exception it
    raises reads as "<name> does not answer" (and goes to the log)."""

    name: str
    run: Callable[[Ledger], str | None]


def _event_store(ledger: Ledger) -> str | None:
    ledger.store.head_position()
    return None


def _read_store(ledger: Ledger) -> str | None:
    for engine in {ledger.engine, ledger.reader}:  # one engine on SQLite, two pools on PostgreSQL
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    return None


@dataclass
class Ops:
    role: str  # the process's (`mastery serve --role`)
    registry: CollectorRegistry  # samples `samplers` whenever it is collected
    samplers: list[Sampler]
    checks: list[Check] = field(
        default_factory=lambda: [Check("event store", _event_store), Check("read store", _read_store)]
    )


def install_ops(app: FastAPI, role: str) -> Ops:
    samplers: list[Sampler] = [log_head, projection_positions]
    ops = Ops(role, registry_for(lambda: app.state.ledger, samplers), samplers)
    app.state.ops = ops
    app.include_router(router)
    return ops


def _failures(ledger: Ledger, checks: list[Check]) -> dict[str, str]:
    failed: dict[str, str] = {}
    for check in checks:
        try:
            why = check.run(ledger)
        except Exception:
            log.warning("readiness: %s does not answer", check.name, exc_info=True)
            why = f"{check.name} does not answer"
        if why is not None:
            failed[check.name] = why
    return failed


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
        get_principal(request, ledger)
    except StarletteHTTPException:
        return Alive()
    ops: Ops = request.app.state.ops
    return Alive(role=ops.role, pid=os.getpid(), position=ledger.store.head_position())


@router.get(
    "/ready",
    response_model=Ready,
    responses={503: {"description": "a dependency does not answer; `detail` names which"}},
)
async def ready(request: Request) -> Any:
    ops: Ops = request.app.state.ops
    failed = await run_in_threadpool(_failures, request.app.state.ledger, ops.checks)
    if failed:
        resp = problem(503, "Service Unavailable", "not ready: " + "; ".join(failed.values()))
        resp.headers["Retry-After"] = "5"
        return resp
    return Ready(checks=[c.name for c in ops.checks])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
def metrics(request: Request) -> Response:
    ops: Ops = request.app.state.ops
    return Response(generate_latest(ops.registry), media_type=CONTENT_TYPE_LATEST)
