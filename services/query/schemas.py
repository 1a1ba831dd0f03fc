"""HTTP response schemas for the read path."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from domain.rules.benchmark import ContradictionKind
from domain.rules.status import StatusName, StatusSource


class ObjectiveStatusOut(BaseModel):
    objective_id: str
    status: StatusName
    source: StatusSource | None
    score: float | None
    # The score as a teacher reads it: a rubric level by name, else a percent to one decimal.
    score_display: str | None = None
    evidence_count: int
    deciding_event_id: str | None
    mastered_at: datetime | None
    flags: list[str]


class SummaryOut(BaseModel):
    mastered: int = 0
    in_progress: int = 0
    not_started: int = 0


class MasteryOut(BaseModel):
    student_id: str
    as_of: datetime | None = None
    known_at: datetime | None = None
    summary: SummaryOut
    objectives: list[ObjectiveStatusOut]


class HistoryEntryOut(BaseModel):
    event_id: str
    type: str
    objective_id: str | None
    occurred_at: datetime
    recorded_at: datetime
    recorded_by: str
    # Who brought the event in from another system (a backfill: recorded_at and
    # recorded_by are the other system's); null for events recorded here.
    migrated_by: str | None = None
    request_id: str
    payload: dict[str, Any]
    voided: bool
    status_after: StatusName | None


class HistoryOut(BaseModel):
    student_id: str
    as_of: datetime | None = None
    known_at: datetime | None = None
    events: list[HistoryEntryOut]


class EvidenceLineOut(BaseModel):
    event_id: str
    type: str
    occurred_at: datetime
    form: str
    evidence: str
    score: str
    meets_threshold: bool
    counted: bool
    reason: str
    reflections: list[dict[str, Any]]


class RuleUsedOut(BaseModel):
    version: int
    effective_from: datetime
    rule: dict[str, Any]


class BenchmarkBehindOut(BaseModel):
    """The benchmark behind a `benchmark_disagrees` flag: its items on the objective."""

    kind: ContradictionKind
    event_id: str
    benchmark_id: str
    name: str
    occurred_at: datetime
    correct: int
    total: int
    percent: float  # correct/total on the objective's items, to one decimal
    sentence: str


class ExplainOut(BaseModel):
    student_id: str
    objective_id: str
    as_of: datetime | None = None
    known_at: datetime | None = None
    status: StatusName
    source: StatusSource | None
    score: float | None
    score_display: str | None = None  # as in ObjectiveStatusOut
    deciding_event_id: str | None
    mastered_at: datetime | None
    flags: list[str]
    rule: RuleUsedOut | None
    evidence: list[EvidenceLineOut]
    overrides: list[dict[str, Any]]
    sentence: str
    # Set while `benchmark_disagrees` stands; null otherwise.
    benchmark: BenchmarkBehindOut | None = None


class RuleVersionOut(BaseModel):
    version: int
    effective_from: datetime
    recorded_at: datetime
    rule: dict[str, Any]


class ObjectiveOut(BaseModel):
    objective_id: str
    statement: str
    subject: str
    course: str
    unit: str
    sequence: int
    prerequisites: list[str]
    rule: dict[str, Any]
    rule_versions: list[RuleVersionOut]
