"""The write endpoints: catalog, roster and learning events (CONTRACT.md §2)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response
from pydantic import TypeAdapter, ValidationError

from infra.tokens import Principal
from services.bootstrap import Ledger
from services.errors import Forbidden, InvalidInput, error
from services.http import LedgerDep, role_in, scoped_students
from services.ingest.schemas import (
    MAX_BATCH,
    ClassIn,
    EventBatchIn,
    EventBatchOut,
    EventIn,
    EventResultOut,
    ObjectiveIn,
    ReflectionIn,
    SchoolIn,
    StudentIn,
    WriteOut,
)

router = APIRouter(prefix="/v1")
CatalogWriter = Annotated[Principal, Depends(role_in("admin", "ingest"))]
EventPoster = Annotated[Principal, Depends(role_in("admin", "ingest", "teacher", "student"))]
_EVENT = TypeAdapter(EventIn)
IdPath = Annotated[str, Path(min_length=1, max_length=200)]


def _status(resp: Response, out: WriteOut) -> WriteOut:
    resp.status_code = 201 if out.created else 200
    return out


@router.put("/objectives/{objective_id}", response_model=WriteOut, tags=["catalog"])
def put_objective(
    objective_id: IdPath, body: ObjectiveIn, ledger: LedgerDep, who: CatalogWriter, resp: Response
) -> WriteOut:
    del who  # admitted by its role
    return _status(resp, ledger.roster.put_objective(objective_id, body))


@router.put("/schools/{school_id}", response_model=WriteOut, tags=["roster"])
def put_school(
    school_id: IdPath, body: SchoolIn, ledger: LedgerDep, who: CatalogWriter, resp: Response
) -> WriteOut:
    del who  # admitted by its role
    return _status(resp, ledger.roster.put_school(school_id, body))


@router.put("/students/{student_id}", response_model=WriteOut, tags=["roster"])
def put_student(
    student_id: IdPath, body: StudentIn, ledger: LedgerDep, who: CatalogWriter, resp: Response
) -> WriteOut:
    del who  # admitted by its role
    return _status(resp, ledger.roster.put_student(student_id, body))


@router.put("/classes/{class_id}", response_model=WriteOut, tags=["roster"])
def put_class(
    class_id: IdPath, body: ClassIn, ledger: LedgerDep, who: CatalogWriter, resp: Response
) -> WriteOut:
    del who  # admitted by its role
    return _status(resp, ledger.roster.put_class(class_id, body))


@router.post("/events", response_model=EventBatchOut, tags=["events"])
def post_events(batch: EventBatchIn, ledger: LedgerDep, who: EventPoster) -> EventBatchOut:
    if who.role in ("teacher", "student"):
        _check_scope(ledger, who, batch)
    result = ledger.writer.write(batch.events, who.recorded_by, str(uuid.uuid4()))
    return EventBatchOut(
        stored=result.stored,
        duplicates=result.duplicates,
        position=result.position,
        results=[EventResultOut(event_id=e, status=s) for e, s in result.results],
    )


def _check_scope(ledger: Ledger, who: Principal, batch: EventBatchIn) -> None:
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


def events_follow_up(ledger: Ledger, body: Any) -> list[dict[str, Any]]:
    """When the schema refused some events of a batch, check the others against
    the store as well, so the one 422 names every invalid event."""
    raw = body.get("events") if isinstance(body, dict) else None
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_BATCH:
        return []
    valid: list[tuple[int, EventIn]] = []
    for i, item in enumerate(raw):
        try:
            valid.append((i, _EVENT.validate_python(item)))
        except ValidationError:
            continue  # already reported by the schema
    if not valid:
        return []
    checked = ledger.writer.check([e for _, e in valid], [i for i, _ in valid])
    return checked.errors + checked.conflicts
