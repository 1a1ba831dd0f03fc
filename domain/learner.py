"""The Learner aggregate: one stream per student holding all of its learning events."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.ids import learner_stream
from domain.records import LearningRecord, Meta, RecordType, parse_record


class Learner(Aggregate):
    """A student. Its roster details open the stream; learning events follow.

    Learning events are appended at the head version without loading the
    aggregate (DESIGN.md: appending must not replay a student's history), so
    they carry everything they need and change no aggregate state.
    """

    class Registered(Aggregate.Created):
        student_id: str
        name: str
        grade: str
        school_id: str

    @staticmethod
    def create_id(student_id: str, **_: Any) -> UUID:
        return learner_stream(student_id)

    def __init__(self, student_id: str, name: str, grade: str, school_id: str) -> None:
        self.student_id = student_id
        self.name = name
        self.grade = grade
        self.school_id = school_id

    class DetailsChanged(Aggregate.Event):
        name: str
        grade: str
        school_id: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Learner)
            aggregate.name = self.name
            aggregate.grade = self.grade
            aggregate.school_id = self.school_id

    def change_details(self, name: str, grade: str, school_id: str) -> None:
        if (name, grade, school_id) != (self.name, self.grade, self.school_id):
            self.trigger_event(self.DetailsChanged, name=name, grade=grade, school_id=school_id)

    class LearningEvent(Aggregate.Event):
        """Base of every learning event. `timestamp` is when the store accepted it
        (recorded_at); `occurred_at` is when it happened in the classroom."""

        record_type: ClassVar[RecordType]
        student_id: str
        event_id: str
        occurred_at: datetime
        recorded_by: str
        request_id: str
        body: dict[str, Any]

        def to_record(self) -> LearningRecord:
            meta = Meta(
                self.event_id,
                self.originator_version,
                self.occurred_at,
                self.timestamp,
                self.recorded_by,
            )
            return parse_record(self.record_type, meta, self.body)

    class AttemptRecorded(LearningEvent):
        record_type: ClassVar[RecordType] = "attempt"

    class RetakeRecorded(LearningEvent):
        record_type: ClassVar[RecordType] = "retake"

    class ReflectionRecorded(LearningEvent):
        record_type: ClassVar[RecordType] = "reflection"

    class OverrideRecorded(LearningEvent):
        record_type: ClassVar[RecordType] = "override"

    class BenchmarkRecorded(LearningEvent):
        record_type: ClassVar[RecordType] = "benchmark"

    class GoalSet(LearningEvent):
        record_type: ClassVar[RecordType] = "goal"

    class EventVoided(LearningEvent):
        record_type: ClassVar[RecordType] = "void"


LEARNING_EVENT_CLASSES: dict[str, type[Learner.LearningEvent]] = {
    cls.record_type: cls
    for cls in (
        Learner.AttemptRecorded,
        Learner.RetakeRecorded,
        Learner.ReflectionRecorded,
        Learner.OverrideRecorded,
        Learner.BenchmarkRecorded,
        Learner.GoalSet,
        Learner.EventVoided,
    )
}


def learning_event(
    record_type: str,
    *,
    student_id: str,
    version: int,
    recorded_at: datetime,
    event_id: str,
    occurred_at: datetime,
    recorded_by: str,
    request_id: str,
    body: dict[str, Any],
) -> Learner.LearningEvent:
    """A learning event for the head of a student's stream."""
    # The library turns event classes into dataclasses at runtime; mypy cannot see their fields.
    cls: Any = LEARNING_EVENT_CLASSES[record_type]
    event: Learner.LearningEvent = cls(
        originator_id=learner_stream(student_id),
        originator_version=version,
        timestamp=recorded_at,
        student_id=student_id,
        event_id=event_id,
        occurred_at=occurred_at,
        recorded_by=recorded_by,
        request_id=request_id,
        body=body,
    )
    return event
