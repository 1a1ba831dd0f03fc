"""create_app(settings, role): one FastAPI app per process; nothing connects at import."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from infra.settings import Settings, load_settings
from services.allowed_methods import install_method_not_allowed
from services.apidocs import install_api_docs
from services.bootstrap import Ledger, build_ledger
from services.consumer_wiring import start_worker
from services.export.api import router as export_router
from services.http import Adapters
from services.imports.api import ImportAdapters
from services.imports.api import router as imports_router
from services.ingest.api import events_follow_up
from services.ingest.api import router as ingest_router
from services.ingest.backfill import router as backfill_router
from services.ingest.schemas import EventBatchIn
from services.middleware import BodyLimits, RequestContext
from services.openapi import document_answers
from services.ops import install_ops
from services.problems import document_request_bodies, install_error_handlers
from services.query.access_log import router as access_log_router
from services.query.api import router as query_router
from services.query.classes import router as classes_router
from services.query.insights import router as insights_router
from services.query.objectives import router as objectives_router
from services.query.roster import router as roster_router
from services.query.ui import install_ui
from services.query.weekly import router as weekly_router
from services.query_params import check_parameters_first
from services.relay_wiring import runs_relay, start_relay
from services.waiting import PositionWatcher

DESCRIPTION = """An event-sourced learning-record store for mastery-based schools.
Every endpoint under /v1 needs `Authorization: Bearer <token>`; /health, /ready and /metrics
answer without one. Errors are RFC 9457 problem+json with the request's id, which every
response also carries in `X-Request-ID`."""


def create_app(settings: Settings, role: str = "all", ledger: Ledger | None = None) -> FastAPI:
    """`ledger` lets a caller (the demo, tests) hand over an already-built one."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        built = ledger or build_ledger(settings)
        held: Adapters = built  # what services/http.py reads of it, checked by mypy
        importing: ImportAdapters = built  # and services/imports/api.py
        del importing
        app.state.ledger = held
        worker = None
        if role in ("all", "projections"):
            if settings.kafka_bootstrap:
                worker = start_worker(settings, built, app.state.ops)
            else:
                built.start_projections()
        relay = start_relay(settings, app.state.ops, role) if runs_relay(role, settings) else None
        waiting = app.state.waiting = PositionWatcher(built.runner.position, settings.max_waiting_reads)
        built.runner.after_batch.append(waiting.nudge)
        # What is alive now (modules, the app, the ledger: ~100k objects) lives
        # as long as the process. Frozen, it is left out of the collector's full
        # passes, which otherwise took 70-100 ms each, now and then, in the
        # middle of a request: the worst of the reads' p99.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()  # an app that stops (tests start many) leaves its garbage collectable
            if relay is not None:
                relay.stop()
            if worker is not None:
                worker.stop()
            built.runner.after_batch.remove(waiting.nudge)
            await waiting.close()
            built.close()

    app = FastAPI(
        title="Mastery Ledger",
        version="1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        # FastAPI's pages load their scripts from a CDN: ours serves them itself.
        docs_url=None,
        redoc_url=None,
        # On every route, included ones too, before the routes' own: unknown query
        # parameters refused, then a read that may wait has its parameters checked.
        dependencies=[Depends(check_parameters_first)],
    )
    install_error_handlers(app)
    install_method_not_allowed(app)
    app.add_middleware(BodyLimits)
    app.add_middleware(RequestContext)  # added last: the outermost of ours
    install_ops(app, role)
    install_api_docs(app)
    if role in ("all", "ingest"):
        app.include_router(ingest_router)
        app.include_router(backfill_router)
        app.include_router(imports_router)
        app.state.schema_follow_up = {"/v1/events": events_follow_up}
        document_request_bodies(app, [EventBatchIn])
    if role in ("all", "query"):
        app.include_router(query_router)
        app.include_router(classes_router)
        app.include_router(insights_router)
        app.include_router(weekly_router)
        app.include_router(access_log_router)
        app.include_router(objectives_router)
        app.include_router(roster_router)
        app.include_router(export_router)
        install_ui(app)  # the dashboards (docs/dashboards.md): pages over the API above
    document_answers(app)
    return app


def tune_collector() -> None:
    """For a serving process. A batch of 1,000 events allocates tens of
    thousands of objects that live until its response; with the default
    threshold (700) the cyclic collector walked them over and over: 21 us of
    the server's ~77 us per event (bench, 2 clients). Collect young objects
    less often; reference counting still frees almost everything at once, only
    cycles wait for a collection. (The start-up heap is frozen out of the
    collector's way in the lifespan above.)"""
    gc.set_threshold(50_000, 10, 10)


def _worker_app(role: str) -> FastAPI:
    """The app of one process of `mastery serve --workers N`, built from the
    environment (which the parent process checked before starting them)."""
    tune_collector()
    return create_app(load_settings(), role)


def ingest_app() -> FastAPI:
    return _worker_app("ingest")


def query_app() -> FastAPI:
    return _worker_app("query")
