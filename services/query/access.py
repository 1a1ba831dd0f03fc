"""What every read about one student shares: who may see it, and at which moment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query

from services.access_records import PathStudent
from services.errors import NotFound
from services.http import EventStoreDep, require_role, scoped_students
from services.inputs import Time
from services.reads import ReadDep
from services.replay import student_exists

AsOf = Annotated[Time | None, Query(description="only evidence that occurred at or before T")]
KnownAt = Annotated[Time | None, Query(description="only what had been recorded at or before T")]
STUDENT_READERS = ("admin", "auditor", "teacher", "leader", "student", "guardian")


def visible_student(student_id: PathStudent, store: EventStoreDep, read: ReadDep) -> str:
    """The student of the path if the caller may see it. One that does not exist
    and one outside the caller's scope are the same 404: never reveal a student.
    The read is recorded in the access log whatever its answer (a refusal too)."""
    require_role(read.who, *STUDENT_READERS)
    scope = scoped_students(read.conn, read.who)
    if (scope is not None and student_id not in scope) or not student_exists(store, student_id):
        raise NotFound(f"no student {student_id!r}")
    return student_id


VisibleStudent = Annotated[str, Depends(visible_student)]


@dataclass(frozen=True)
class Moment:
    """`as_of` cuts on when things happened, `known_at` on when they were recorded."""

    as_of: datetime | None
    known_at: datetime | None

    @property
    def past(self) -> bool:
        return self.as_of is not None or self.known_at is not None


async def moment(as_of: AsOf = None, known_at: KnownAt = None) -> Moment:
    # async: no I/O, so no trip to the thread pool.
    return Moment(as_of, known_at)


MomentDep = Annotated[Moment, Depends(moment)]
