"""The Learner aggregate: one stream per student holding its learning events.

Learning events are domain events of their own, translated from the HTTP
schemas at the edge (services/ingest/translate.py). Each class declares its
payload field by field; `class_version` is its schema version, and the
`upcast_vN_vN+1` methods bring older stored states up to date on read (the
`eventsourcing` library calls them; stored events are never rewritten).

Personal data (free text: notes, reflections, error analyses, reasons) is not
a field of its own: it travels in `personal`, sealed under the student's key
(infra/sealing.py), so that destroying the key erases it everywhere the event
went. Events written before version 2 hold it in clear; their upcast keeps it
as a plain dict, which only those old events can hold.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.ids import learner_stream
from domain.records import PERSONAL_FIELDS, LearningRecord, Meta, RecordType, parse_record


class Learner(Aggregate):
    """A student's learning stream. It has no aggregate state: learning events
    are appended at the head version without loading the stream (DESIGN.md:
    appending must not replay a student's history)."""

    # -- version 1: the profile opened the learning stream. Kept to read old
    # logs; new profiles go to domain.profile.StudentProfile's stream.

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

    class DetailsChanged(Aggregate.Event):
        name: str
        grade: str
        school_id: str

    # -- learning events

    class LearningEvent(Aggregate.Event):
        """Base of every learning event. `timestamp` is when the store accepted it
        (recorded_at); `occurred_at` is when it happened in the classroom."""

        class_version: ClassVar[int] = 3
        record_type: ClassVar[RecordType]
        # The payload fields of the class, in declaration order (set below).
        payload_fields: ClassVar[tuple[str, ...]] = ()
        student_id: str
        event_id: str
        occurred_at: datetime
        recorded_by: str
        request_id: str
        personal: str | dict[str, Any] | None
        # Who brought the event in from another system (a backfill keeps its
        # original recorded_at and recorded_by); None for events recorded here.
        migrated_by: str | None

        def payload(self) -> dict[str, Any]:
            """The event's own fields, without personal data: what the rules read."""
            return {f: getattr(self, f) for f in self.payload_fields}

        def to_record(self) -> LearningRecord:
            meta = Meta(
                self.event_id,
                self.originator_version,
                self.occurred_at,
                self.timestamp,
                self.recorded_by,
            )
            return parse_record(self.record_type, meta, self.payload())

        @classmethod
        def upcast_v1_v2(cls, state: dict[str, Any]) -> None:
            """Version 1 held the HTTP body as sent (`body`, without the common
            fields and without nulls), personal text in clear."""
            body: dict[str, Any] = state.pop("body")
            personal = {k: body.pop(k) for k in PERSONAL_FIELDS[cls.record_type] if k in body}
            state["personal"] = personal or None
            for name in cls.payload_fields:
                state[name] = body.get(name)

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            """Version 3 records backfills (`migrated_by`)."""
            state["migrated_by"] = None

    class AttemptRecorded(LearningEvent):
        record_type: ClassVar[RecordType] = "attempt"
        objective_id: str
        form: str
        evidence: str
        score: dict[str, Any]  # exactly one of {correct, total}, {percent}, {rubric_level}
        duration_seconds: float | None
        accommodations: dict[str, Any] | None
        items: list[Any] | None

    class RetakeRecorded(AttemptRecorded):
        record_type: ClassVar[RecordType] = "retake"
        retake_of: str

    class ReflectionRecorded(LearningEvent):
        record_type: ClassVar[RecordType] = "reflection"
        on_event: str

    class OverrideRecorded(LearningEvent):
        record_type: ClassVar[RecordType] = "override"
        objective_id: str
        status: str

    class BenchmarkRecorded(LearningEvent):
        record_type: ClassVar[RecordType] = "benchmark"
        benchmark_id: str
        name: str  # the test's name ("Interim 2"), never a person's
        results: list[dict[str, Any]]

    class GoalSet(LearningEvent):
        record_type: ClassVar[RecordType] = "goal"
        target_mastered: int
        due: str  # an ISO date

    class EventVoided(LearningEvent):
        record_type: ClassVar[RecordType] = "void"
        target_event_id: str


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
_BASE = {f.name for f in fields(Learner.LearningEvent)}
for _cls in LEARNING_EVENT_CLASSES.values():
    _cls.payload_fields = tuple(f.name for f in fields(_cls) if f.name not in _BASE)


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
    payload: dict[str, Any],
    personal: str | None,
    migrated_by: str | None = None,
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
        personal=personal,
        migrated_by=migrated_by,
        **{f: payload.get(f) for f in cls.payload_fields},
    )
    return event
