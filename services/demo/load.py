"""Loading a synthetic district in process: the roster, then the log.

Events go through `EventWriter.write`, the same validation and append as
`POST /v1/events` without HTTP (the bench measures HTTP ingest separately).
The demo's school year goes through the backfill path of
`POST /v1/events/backfill`: each event keeps when and by whom it was
recorded, and the audit trail marks it migrated.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator

from pydantic import TypeAdapter

from services.bootstrap import Ledger
from services.demo.district import District, Event, Happening
from services.ingest.commands import RecordEvents
from services.ingest.event_checks import Backfill
from services.ingest.schemas import ClassIn, EventBatchIn, ObjectiveIn, SchoolIn, StudentIn

_BATCH = TypeAdapter(EventBatchIn)


def load_roster(ledger: Ledger, district: District) -> None:
    for school, body in district.school_bodies():
        ledger.roster.put_school(school, SchoolIn.model_validate(body))
    for oid, body in district.objective_bodies():
        ledger.roster.put_objective(oid, ObjectiveIn.model_validate(body))
    for sid, body in district.student_bodies():
        ledger.roster.put_student(sid, StudentIn.model_validate(body))
    for cid, body in district.class_bodies():
        ledger.roster.put_class(cid, ClassIn.model_validate(body))


def write_batches(
    ledger: Ledger,
    batches: Iterable[list[Event]],
    recorded_by: str = "ingest:bench-loader",
    progress: Callable[[int], None] | None = None,
) -> tuple[int, float]:
    """Append every batch through the event writer; (events stored, seconds)."""
    stored = 0
    started = time.perf_counter()
    for batch in batches:
        parsed = _BATCH.validate_python({"events": batch})
        result = ledger.writer.write(RecordEvents(parsed.events, recorded_by, "district-loader"))
        stored += result.stored
        if progress:
            progress(len(batch))
    return stored, time.perf_counter() - started


def backfill(
    ledger: Ledger,
    happenings: Iterable[Happening],
    migrated_by: str,
    request_prefix: str = "backfill",
    size: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Append events from another system in the order they were recorded there,
    each with its recorded_at and recorder; `migrated_by` (an admin's
    `recorded_by`) is marked as the one who brought them in. Events stored."""
    stored = 0
    for n, batch in enumerate(_chunks(happenings, size)):
        parsed = _BATCH.validate_python({"events": [h.event for h in batch]})
        recorded = Backfill({h.event["event_id"]: (h.recorded_at, h.recorded_by) for h in batch})
        command = RecordEvents(parsed.events, migrated_by, f"{request_prefix}-{n}", recorded)
        result = ledger.writer.write(command)
        stored += result.stored
        if progress:
            progress(len(batch))
    return stored


def _chunks(happenings: Iterable[Happening], size: int) -> Iterator[list[Happening]]:
    batch: list[Happening] = []
    for h in happenings:
        batch.append(h)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
