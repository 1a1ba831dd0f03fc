"""Loading a synthetic district in process: the roster, then the log.

Events go through `EventWriter.write`, the same validation and append as
`POST /v1/events` without HTTP (the bench measures HTTP ingest separately).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from pydantic import TypeAdapter

from services.bootstrap import Ledger
from services.demo.district import District, Event
from services.ingest.schemas import ClassIn, EventBatchIn, ObjectiveIn, SchoolIn, StudentIn

_BATCH = TypeAdapter(EventBatchIn)


def load_roster(ledger: Ledger, district: District) -> None:
    for school in district.schools():
        ledger.roster.put_school(school, SchoolIn(name=f"{school.replace('sch-', 'Lincoln ')} Middle School"))
    for oid, body in district.objective_bodies():
        ledger.roster.put_objective(oid, ObjectiveIn.model_validate(body))
    schools = {c: s for c, s, _ in district.classes()}
    school_of = {sid: schools[c] for c, _, members in district.classes() for sid in members}
    for i, sid in enumerate(district.student_ids):
        ledger.roster.put_student(
            sid, StudentIn(name=district.student_name(i), grade=str(6 + i % 3), school_id=school_of[sid])
        )
    for i, (cid, school, members) in enumerate(district.classes()):
        name = f"Algebra 1, section {i + 1}"
        ledger.roster.put_class(
            cid, ClassIn(name=name, school_id=school, teacher_ids=[f"t-{cid}"], student_ids=members)
        )


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
        result = ledger.writer.write(parsed.events, recorded_by, "district-loader")
        stored += result.stored
        if progress:
            progress(len(batch))
    return stored, time.perf_counter() - started
