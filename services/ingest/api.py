"""The write endpoints: catalog, roster and learning events (CONTRACT.md §2)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Response

from services.errors import Forbidden, InvalidInput, error
from services.http import LedgerDep, PrincipalDep, require_role, scoped_students
from services.ingest.schemas import (
    ClassIn,
    EventBatchIn,
    EventBatchOut,
    EventResultOut,
    ObjectiveIn,
    ReflectionIn,
    SchoolIn,
    StudentIn,
    WriteOut,
)

router = APIRouter(prefix="/v1")
IdPath = Annotated[str, Path(min_length=1, max_length=200)]
CATALOG_WRITERS = ("admin", "ingest")


def _status(resp: Response, out: WriteOut) -> WriteOut:
    resp.status_code = 201 if out.created else 200
    return out


@router.put("/objectives/{objective_id}", response_model=WriteOut, tags=["catalog"])
def put_objective(
    objective_id: IdPath, body: ObjectiveIn, ledger: LedgerDep, who: PrincipalDep, resp: Response
) -> WriteOut:
    require_role(who, *CATALOG_WRITERS)
    return _status(resp, ledger.roster.put_objective(objective_id, body))


@router.put("/schools/{school_id}", response_model=WriteOut, tags=["roster"])
def put_school(
    school_id: IdPath, body: SchoolIn, ledger: LedgerDep, who: PrincipalDep, resp: Response
) -> WriteOut:
    require_role(who, *CATALOG_WRITERS)
    return _status(resp, ledger.roster.put_school(school_id, body))


@router.put("/students/{student_id}", response_model=WriteOut, tags=["roster"])
def put_student(
    student_id: IdPath, body: StudentIn, ledger: LedgerDep, who: PrincipalDep, resp: Response
) -> WriteOut:
    require_role(who, *CATALOG_WRITERS)
    return _status(resp, ledger.roster.put_student(student_id, body))


@router.put("/classes/{class_id}", response_model=WriteOut, tags=["roster"])
def put_class(
    class_id: IdPath, body: ClassIn, ledger: LedgerDep, who: PrincipalDep, resp: Response
) -> WriteOut:
    require_role(who, *CATALOG_WRITERS)
    return _status(resp, ledger.roster.put_class(class_id, body))


@router.post("/events", response_model=EventBatchOut, tags=["events"])
def post_events(batch: EventBatchIn, ledger: LedgerDep, who: PrincipalDep) -> EventBatchOut:
    require_role(who, "admin", "ingest", "teacher", "student")
    if who.role in ("teacher", "student"):
        _check_scope(ledger, who, batch)
    result = ledger.writer.write(batch.events, who.recorded_by, str(uuid.uuid4()))
    return EventBatchOut(
        stored=result.stored,
        duplicates=result.duplicates,
        position=result.position,
        results=[EventResultOut(event_id=e, status=s) for e, s in result.results],
    )


def _check_scope(ledger: LedgerDep, who: PrincipalDep, batch: EventBatchIn) -> None:
    if who.role == "student" and any(not isinstance(e, ReflectionIn) for e in batch.events):
        raise Forbidden("a student may post only reflections on its own attempts")
    allowed = scoped_students(ledger, who) or set()
    # Out of scope reads as unknown: a caller must not learn that a student exists.
    errors = [
        error(["body", "events", i, "student_id"], f"unknown student {e.student_id!r}")
        for i, e in enumerate(batch.events)
        if e.student_id not in allowed
    ]
    if errors:
        raise InvalidInput(f"{len(errors)} problem(s) in the batch; nothing was stored", errors)
