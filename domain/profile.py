"""The student profile: name, grade and school, in a stream of its own.

The name is personal data: the aggregate holds it sealed (encrypted under the
student's key, an opaque string the domain never opens), so the event log
never holds it in clear. Erasure is recorded here too: the key is destroyed
(infra), the erasure stays as a fact of the profile's history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.ids import profile_stream


class StudentProfile(Aggregate):
    class Registered(Aggregate.Created):
        student_id: str
        sealed_name: str
        grade: str
        school_id: str

    @staticmethod
    def create_id(student_id: str, **_: Any) -> UUID:
        return profile_stream(student_id)

    def __init__(self, student_id: str, sealed_name: str, grade: str, school_id: str) -> None:
        self.student_id = student_id
        self.sealed_name = sealed_name
        self.grade = grade
        self.school_id = school_id
        self.erased_at: datetime | None = None

    class DetailsChanged(Aggregate.Event):
        """What changed; a field left as it was is None (the name: a new seal)."""

        sealed_name: str | None
        grade: str | None
        school_id: str | None

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, StudentProfile)
            if self.sealed_name is not None:
                aggregate.sealed_name = self.sealed_name
            if self.grade is not None:
                aggregate.grade = self.grade
            if self.school_id is not None:
                aggregate.school_id = self.school_id

    def change(self, sealed_name: str | None, grade: str, school_id: str) -> None:
        """`sealed_name`: the new name sealed, or None when the name is unchanged
        (only the caller, who holds the key, can compare names)."""
        new_grade = grade if grade != self.grade else None
        new_school = school_id if school_id != self.school_id else None
        if sealed_name is not None or new_grade is not None or new_school is not None:
            self.trigger_event(
                self.DetailsChanged, sealed_name=sealed_name, grade=new_grade, school_id=new_school
            )

    class Erased(Aggregate.Event):
        """The student's key was destroyed: every sealed field of the student
        is unreadable from now on. Who asked, and why (an administrative
        reason, not the child's data)."""

        erased_by: str
        reason: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, StudentProfile)
            aggregate.erased_at = self.timestamp

    def erase(self, erased_by: str, reason: str) -> None:
        self.trigger_event(self.Erased, erased_by=erased_by, reason=reason)
