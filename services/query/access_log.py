"""`GET /v1/students/{student_id}/access-log`: who read this student's records
(CONTRACT.md §2; docs/security.md, "Access records").

Admin and auditor only. Every other role gets the 404 of a student that does
not exist, whoever it asks about: the log's existence is not theirs to learn,
nor, through it, a student's. Oldest first, by the entry's id: a client that
follows `next` to the end and keeps the last `id` can later ask for what came
after it (`?after=ID`), and a page once read never shifts as entries are added.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from infra.trust import access_log
from services.access_records import AccessDep, PathStudent
from services.errors import NotFound, NotReady
from services.http import EventStoreDep, TrustDep
from services.inputs import Position
from services.reads import ReadDep, json_response
from services.replay import student_exists

router = APIRouter(prefix="/v1", tags=["students"])
LOG_READERS = ("admin", "auditor")
MAX_LIMIT = 1_000
# How long a read of the log waits for this process's queued entries to be
# written before it answers 503 (the trust store refuses writes).
FLUSH_WAIT = 5.0


class AccessEntryOut(BaseModel):
    id: int = Field(description="the entry's place in the log; `?after=` takes it")
    at: datetime = Field(description="when the answer (for an export, the student's first rows) went out")
    token_id: str
    token_name: str
    role: str
    endpoint: str = Field(description="method and route template: GET /v1/students/{student_id}/mastery")
    status: int = Field(description="the HTTP status the reader got: 200, or a refusal such as 404")


class AccessLogOut(BaseModel):
    student_id: str
    entries: list[AccessEntryOut]
    next: int | None = Field(description="pass as `after` for the next page; null on the last page")


_a = access_log.c
_ENTRIES = select(_a.id, _a.at, _a.token_id, _a.token_name, _a.role, _a.endpoint, _a.status)


@router.get("/students/{student_id}/access-log", response_model=AccessLogOut)
def get_access_log(
    student_id: PathStudent,  # reading who read a student's records is a read of them too
    store: EventStoreDep,
    trust: TrustDep,
    access: AccessDep,
    read: ReadDep,
    after: Annotated[Position, Query(description="only entries after this id (a page's `next`)")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="entries per page, at most 1,000")] = 100,
) -> Response:
    if read.who.role not in LOG_READERS or not student_exists(store, student_id):
        raise NotFound(f"no student {student_id!r}")
    # What this process has queued, written first: the log shows every read
    # this process answered before this one (another process's within its
    # batch interval, infra/access_log.py).
    if not access.flush(FLUSH_WAIT):
        raise NotReady("the access log's latest entries could not be written yet", position=read.position)
    query = _ENTRIES.where(_a.student_id == student_id, _a.id > after).order_by(_a.id).limit(limit + 1)
    with trust.connect() as conn:
        rows = conn.execute(query).all()
    page = rows[:limit]
    entries = [
        {
            "id": entry_id,
            "at": _utc(at),
            "token_id": token_id,
            "token_name": token_name,
            "role": role,
            "endpoint": endpoint,
            "status": status,
        }
        for entry_id, at, token_id, token_name, role, endpoint, status in page
    ]
    more = len(rows) > limit
    body = {"student_id": student_id, "entries": entries, "next": page[-1].id if more else None}
    return json_response(body, read.position)


def _utc(at: datetime) -> datetime:
    # SQLite gives DateTime(timezone=True) back naive (stored as UTC); PostgreSQL in the session's zone.
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
