"""`GET /v1/export`: streamed longitudinal exports (CONTRACT.md §2)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from services.access_records import AccessDep, recording_for
from services.errors import NotReady
from services.export.export import ExportKind, plan_export
from services.export.formats import MEDIA_TYPES, Format
from services.http import CatalogDep, EventStoreDep, MinPosition, PrincipalDep, TrustDep, require_role

router = APIRouter(prefix="/v1")
EXPORTERS = ("admin", "auditor", "analyst")


@router.get(
    "/export",
    tags=["export"],
    response_class=StreamingResponse,
    responses={
        200: {"content": {t: {} for t in MEDIA_TYPES.values()}, "description": "the export, streamed"}
    },
)
def get_export(
    request: Request,
    access: AccessDep,
    store: EventStoreDep,
    catalog: CatalogDep,
    trust: TrustDep,
    who: PrincipalDep,
    kind: Annotated[ExportKind, Query(description="events: every learning event; mastery: status changes")],
    fmt: Annotated[Format, Query(alias="format")] = "ndjson",
    pseudonymise: Annotated[
        bool, Query(description="replace student ids and drop free text (always on for analysts)")
    ] = False,
    min_position: MinPosition = None,
) -> StreamingResponse:
    require_role(who, *EXPORTERS)
    analyst = who.role == "analyst"
    # An export that names students records each in the access log as it
    # streams its rows; a pseudonymised one names no one and records nothing.
    naming = recording_for(request, who, access)
    export = plan_export(store, catalog, trust, kind, fmt, pseudonymise or analyst, naming)
    # The export reads the log itself, cut at its head: every position a write
    # has answered is in it at once. One beyond the head is not there yet.
    if min_position is not None and min_position > export.position:
        raise NotReady(f"the log has not reached position {min_position}", position=export.position)
    return StreamingResponse(
        export.chunks,
        media_type=export.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{export.filename}"',
            "X-Export-Position": str(export.position),
            # Every read carries it (CONTRACT.md §2). The export reads the log
            # itself, cut at this position, so it reflects every write up to it.
            "X-Projection-Position": str(export.position),
            "X-Export-Pseudonymised": "true" if export.pseudonymised else "false",
        },
    )
