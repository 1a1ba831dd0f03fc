"""HTTP request schemas for the write path (CONTRACT.md §2). Not domain events:
`writer.py` translates them at the edge."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.limits import Count, LevelName, PositiveCount
from domain.records import EVIDENCE_KINDS, OverrideStatus
from domain.rules.model import Rule
from services.inputs import (
    MAX_CLASS_STUDENTS,
    MAX_ERROR_ANALYSIS,
    MAX_ITEMS,
    MAX_PREREQUISITES,
    MAX_RESULTS,
    MAX_TEACHERS,
    AnyText,
    Day,
    Duration,
    Form,
    FreeJson,
    FreeJsonObject,
    FreeText,
    GoalTarget,
    Id,
    Name,
    Percent,
    Statement,
    Time,
    TimeFactor,
)

EvidenceKind = Literal[
    "quiz",
    "exit_ticket",
    "oral",
    "conference",
    "project",
    "performance_task",
    "boss_battle",
    "assignment",
    "other",
]
assert set(EvidenceKind.__args__) == set(EVIDENCE_KINDS)  # type: ignore[attr-defined]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScoreIn(_In):
    correct: Count | None = None
    total: PositiveCount | None = None
    percent: Percent | None = None
    rubric_level: LevelName | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ScoreIn:
        has_ct = self.correct is not None or self.total is not None
        given = sum([has_ct, self.percent is not None, self.rubric_level is not None])
        if given != 1:
            raise ValueError("score must be exactly one of {correct, total}, {percent} or {rubric_level}")
        if has_ct:
            if self.correct is None or self.total is None:
                raise ValueError("score needs both correct and total")
            if self.correct > self.total:
                raise ValueError(f"correct ({self.correct}) must not exceed total ({self.total})")
        return self


class AccommodationsIn(_In):
    extended_time_factor: TimeFactor = 1


class _EventIn(_In):
    event_id: UUID
    student_id: Id
    occurred_at: Time


class AttemptIn(_EventIn):
    type: Literal["attempt"]
    objective_id: Id
    form: Form
    evidence: EvidenceKind
    score: ScoreIn
    duration_seconds: Duration | None = None
    accommodations: AccommodationsIn | None = None
    items: list[FreeJsonObject] | None = Field(default=None, max_length=MAX_ITEMS)
    notes: AnyText | None = None


class RetakeIn(AttemptIn):
    type: Literal["retake"]  # type: ignore[assignment]
    retake_of: UUID


class ErrorAnalysisIn(_In):
    item: FreeJson
    cause: FreeText


class ReflectionIn(_EventIn):
    type: Literal["reflection"]
    on_event: UUID
    text: FreeText
    error_analysis: list[ErrorAnalysisIn] | None = Field(default=None, max_length=MAX_ERROR_ANALYSIS)


class OverrideIn(_EventIn):
    type: Literal["override"]
    objective_id: Id
    status: OverrideStatus
    reason: FreeText


class BenchmarkResultIn(_In):
    objective_id: Id
    correct: Count
    total: PositiveCount

    @model_validator(mode="after")
    def _correct_within_total(self) -> BenchmarkResultIn:
        if self.correct > self.total:
            raise ValueError(f"correct ({self.correct}) must not exceed total ({self.total})")
        return self


class BenchmarkIn(_EventIn):
    type: Literal["benchmark"]
    benchmark_id: Id
    name: Name
    results: list[BenchmarkResultIn] = Field(min_length=1, max_length=MAX_RESULTS)


class GoalIn(_EventIn):
    type: Literal["goal"]
    target_mastered: GoalTarget
    due: Day


class VoidIn(_EventIn):
    type: Literal["void"]
    target_event_id: UUID
    reason: FreeText


EventIn = Annotated[
    AttemptIn | RetakeIn | ReflectionIn | OverrideIn | BenchmarkIn | GoalIn | VoidIn,
    Field(discriminator="type"),
]
MAX_BATCH = 5000


class EventBatchIn(_In):
    events: list[EventIn] = Field(min_length=1, max_length=MAX_BATCH)


class EventResultOut(BaseModel):
    event_id: str
    status: Literal["stored", "duplicate"]


class EventBatchOut(BaseModel):
    stored: int
    duplicates: int
    position: int
    results: list[EventResultOut]


class ObjectiveIn(_In):
    statement: Statement
    subject: Id
    course: Id
    unit: Id
    sequence: Count = 0
    prerequisites: list[Id] = Field(default_factory=list, max_length=MAX_PREREQUISITES)
    rule: Rule
    effective_from: Time | None = None


class StudentIn(_In):
    name: Name
    grade: Id
    school_id: Id


class ClassIn(_In):
    name: Name
    school_id: Id
    teacher_ids: list[Id] = Field(default_factory=list, max_length=MAX_TEACHERS)
    student_ids: list[Id] = Field(default_factory=list, max_length=MAX_CLASS_STUDENTS)


class SchoolIn(_In):
    name: Name


class WriteOut(BaseModel):
    id: str
    created: bool
    changed: bool
    position: int


class BackfilledIn(_In):
    """An event from another system, with when and by whom it was recorded there."""

    event: EventIn
    recorded_at: Time
    recorded_by: Name


class BackfillBatchIn(_In):
    events: list[BackfilledIn] = Field(min_length=1, max_length=MAX_BATCH)
