"""HTTP request schemas for the write path (CONTRACT.md §2). Not domain events:
`writer.py` translates them at the edge."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    StringConstraints,
    model_validator,
)

from domain.records import EVIDENCE_KINDS
from domain.rules.model import Rule

NonBlank = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Ident = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
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
    correct: int | None = Field(default=None, ge=0)
    total: int | None = Field(default=None, ge=1)
    percent: float | None = Field(default=None, ge=0, le=100)
    rubric_level: NonBlank | None = None

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
    extended_time_factor: float = Field(default=1, ge=1)


class _EventIn(_In):
    event_id: UUID
    student_id: Ident
    occurred_at: AwareDatetime


class AttemptIn(_EventIn):
    type: Literal["attempt"]
    objective_id: Ident
    form: NonBlank
    evidence: EvidenceKind
    score: ScoreIn
    duration_seconds: NonNegativeFloat | None = None
    accommodations: AccommodationsIn | None = None
    items: list[dict[str, Any]] | None = None
    notes: str | None = None


class RetakeIn(AttemptIn):
    type: Literal["retake"]  # type: ignore[assignment]
    retake_of: UUID


class ErrorAnalysisIn(_In):
    item: Any
    cause: NonBlank


class ReflectionIn(_EventIn):
    type: Literal["reflection"]
    on_event: UUID
    text: NonBlank
    error_analysis: list[ErrorAnalysisIn] | None = None


class OverrideIn(_EventIn):
    type: Literal["override"]
    objective_id: Ident
    status: Literal["mastered", "not_mastered", "cleared"]
    reason: NonBlank


class BenchmarkResultIn(_In):
    objective_id: Ident
    correct: int = Field(ge=0)
    total: int = Field(ge=1)

    @model_validator(mode="after")
    def _correct_within_total(self) -> BenchmarkResultIn:
        if self.correct > self.total:
            raise ValueError(f"correct ({self.correct}) must not exceed total ({self.total})")
        return self


class BenchmarkIn(_EventIn):
    type: Literal["benchmark"]
    benchmark_id: Ident
    name: NonBlank
    results: list[BenchmarkResultIn] = Field(min_length=1)


class GoalIn(_EventIn):
    type: Literal["goal"]
    target_mastered: int = Field(ge=1)
    due: dt.date


class VoidIn(_EventIn):
    type: Literal["void"]
    target_event_id: UUID
    reason: NonBlank


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
    statement: NonBlank
    subject: Ident
    course: Ident
    unit: Ident
    sequence: int = 0
    prerequisites: list[Ident] = Field(default_factory=list)
    rule: Rule
    effective_from: AwareDatetime | None = None


class StudentIn(_In):
    name: NonBlank
    grade: Ident
    school_id: Ident


class ClassIn(_In):
    name: NonBlank
    school_id: Ident
    teacher_ids: list[Ident] = Field(default_factory=list)
    student_ids: list[Ident] = Field(default_factory=list)


class SchoolIn(_In):
    name: NonBlank


class WriteOut(BaseModel):
    id: str
    created: bool
    changed: bool
    position: int
