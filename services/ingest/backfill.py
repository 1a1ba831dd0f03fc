"""`POST /v1/events/backfill`: bring in learning events from another system
(years of history from a district's previous tool, or the demo's school
year), admin only.

Each event keeps the time it was recorded there and who recorded it, so
`known_at` and "recorded by" mean what they meant then; each is marked as
migrated (`migrated_by`: the admin who brought it in), and the audit trail
shows it. Otherwise it is a batch like any other: validated as a whole,
idempotent by event id, atomic."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from infra.tokens import Principal
from services import requestid
from services.errors import ProblemError
from services.http import role_in
from services.ingest.api import WriterDep
from services.ingest.commands import RecordEvents
from services.ingest.event_checks import Backfill
from services.ingest.schemas import BackfillBatchIn, EventBatchOut, EventResultOut
from services.instruments import EVENTS_INGESTED

router = APIRouter(prefix="/v1")
Migrator = Annotated[Principal, Depends(role_in("admin"))]


@router.post(
    "/events/backfill",
    response_model=EventBatchOut,
    tags=["events"],
    responses={"409": {"description": "an event_id reused with a different body"}},
)
def post_backfill(body: BackfillBatchIn, writer: WriterDep, who: Migrator) -> EventBatchOut:
    events = [b.event for b in body.events]
    backfill = Backfill({str(b.event.event_id): (b.recorded_at, b.recorded_by) for b in body.events})
    request_id = requestid.current() or uuid.uuid4().hex
    try:
        result = writer.write(RecordEvents(events, who.recorded_by, request_id, backfill))
    except ProblemError as e:
        e.errors = [_located(err) for err in e.errors or []]
        raise
    EVENTS_INGESTED.labels("stored").inc(result.stored)
    EVENTS_INGESTED.labels("duplicate").inc(result.duplicates)
    return EventBatchOut(
        stored=result.stored,
        duplicates=result.duplicates,
        position=result.position,
        results=[EventResultOut(event_id=e, status=s) for e, s in result.results],
    )


def _located(err: dict[str, Any]) -> dict[str, Any]:
    """The writer names an event's fields as in a plain batch (events, i, field);
    here they sit under the item's `event`, beside its recorded_at."""
    loc = list(err.get("loc", ()))
    if len(loc) > 3 and loc[:2] == ["body", "events"] and loc[3] != "recorded_at":
        loc = [*loc[:3], "event", *loc[3:]]
    return {**err, "loc": loc}
