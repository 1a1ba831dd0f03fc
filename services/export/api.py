"""`GET /v1/export`: streamed longitudinal exports (CONTRACT.md §2)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from services.access_records import AccessDep, recording_for
from services.errors import NotFound, NotReady
from services.export.export import Cut, ExportKind, Stores, plan_export, take_cut
from services.export.filters import Filters, refuse_unfit
from services.export.formats import MEDIA_TYPES, Format
from services.http import (
    CatalogDep,
    EventStoreDep,
    PrincipalDep,
    ReadModelsDep,
    TrustDep,
    adapters,
    require_role,
)
from services.inputs import Id, Time
from services.reads import MIN_POSITION_WAIT, MinPosition
from services.waiting import PositionWatcher, TooManyWaiting

router = APIRouter(prefix="/v1")
# A leader reads everything of its schools' students (CONTRACT.md §3), so it
# exports them, named, and no one else (docs/exports.md, "Who may export").
EXPORTERS = ("admin", "auditor", "analyst", "leader")
_KIND = (
    "events: every learning event (a benchmark: a row per result); mastery: status changes; "
    "roster: a row per student with their classes; objectives: the catalog"
)


@router.get(
    "/export",
    tags=["export"],
    response_class=StreamingResponse,
    responses={
        200: {"content": {t: {} for t in MEDIA_TYPES.values()}, "description": "the export, streamed"}
    },
)
async def get_export(
    request: Request,
    access: AccessDep,
    store: EventStoreDep,
    catalog: CatalogDep,
    read_models: ReadModelsDep,
    trust: TrustDep,
    who: PrincipalDep,
    kind: Annotated[ExportKind, Query(description=_KIND)],
    fmt: Annotated[Format, Query(alias="format")] = "ndjson",
    pseudonymise: Annotated[
        bool, Query(description="replace student ids and drop names and free text (always on for analysts)")
    ] = False,
    school_id: Annotated[
        Id | None, Query(description="only the students of this school (events, mastery, roster)")
    ] = None,
    start: Annotated[
        Time | None, Query(alias="from", description="only what occurred at or after T (events, mastery)")
    ] = None,
    end: Annotated[
        Time | None, Query(alias="to", description="only what occurred before T (events, mastery)")
    ] = None,
    min_position: MinPosition = None,
) -> StreamingResponse:
    require_role(who, *EXPORTERS)
    analyst = who.role == "analyst"
    scope = frozenset(who.scoped("school")) if who.role == "leader" else None
    filters = refuse_unfit(kind, Filters(school_id, start, end, scope))  # before any wait
    if scope is not None and school_id is not None and school_id not in scope:
        raise NotFound(f"no school {school_id!r}")  # out of scope reads as absent, as in the roster reads
    cut = await run_in_threadpool(take_cut, store)
    # The export reads the log itself, cut at its head: every position a write
    # has answered is in it at once. One beyond the head is not there yet.
    if min_position is not None and min_position > cut.position:
        raise NotReady(f"the log has not reached position {min_position}", position=cut.position)
    await _read_models_reach(request, cut, read_models)
    # An export that names students records each in the access log as it
    # streams its rows; a pseudonymised one names no one and records nothing.
    naming = recording_for(request, who, access)
    export = await run_in_threadpool(
        plan_export,
        Stores(store, catalog, read_models, trust),
        kind,
        fmt,
        pseudonymise or analyst,
        cut,
        filters,
        naming,
    )
    return StreamingResponse(
        export.chunks,
        media_type=export.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{export.filename}"',
            "X-Export-Position": str(export.position),
            # Every read carries it (CONTRACT.md §2). The export reads the log
            # itself, cut at this position, and the read models at least as far.
            "X-Projection-Position": str(export.position),
            "X-Export-Pseudonymised": "true" if export.pseudonymised else "false",
        },
    )


async def _read_models_reach(request: Request, cut: Cut, read_models: ReadModelsDep) -> None:
    """Wait, holding neither a thread nor a connection, until the read models
    reach the cut: the roster columns come from them, and a student whose
    registration they have not applied yet would have none. Up to 5 s, as a
    read with `min_position` waits, else 503."""

    def reached() -> int:
        with read_models.connect() as conn:
            return adapters(request).read_position(conn)

    if await run_in_threadpool(reached) >= cut.position:
        return
    watcher: PositionWatcher = request.app.state.waiting
    try:
        if await watcher.wait_for(cut.position, MIN_POSITION_WAIT):
            return
    except TooManyWaiting:
        raise NotReady(
            f"too many reads wait for the read models in this process (at most {watcher.limit}); retry",
            position=watcher.position,
        ) from None
    raise NotReady(
        f"the read models have not reached the log's head ({cut.position}) within "
        f"{MIN_POSITION_WAIT:g} s; the export's roster columns come from them",
        position=watcher.position,
    )
