"""Learning records: the typed, immutable view of a student's learning events.

The rules read these, whichever way the events arrived: decoded from the event
store for a replay, or from read-model rows in a projection. One parser
(`parse_record`) serves both so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

RecordType = Literal["attempt", "retake", "reflection", "override", "benchmark", "goal", "void"]
RECORD_TYPES: tuple[RecordType, ...] = (
    "attempt",
    "retake",
    "reflection",
    "override",
    "benchmark",
    "goal",
    "void",
)
EVIDENCE_KINDS = (
    "quiz",
    "exit_ticket",
    "oral",
    "conference",
    "project",
    "performance_task",
    "boss_battle",
    "assignment",
    "other",
)
OverrideStatus = Literal["mastered", "not_mastered", "cleared"]
# Personal data of each record type: free text, sealed under the student's key
# (domain/learner.py), never part of a record the rules read.
PERSONAL_FIELDS: dict[str, tuple[str, ...]] = {
    "attempt": ("notes",),
    "retake": ("notes",),
    "reflection": ("text", "error_analysis"),
    "override": ("reason",),
    "benchmark": (),
    "goal": (),
    "void": ("reason",),
}


@dataclass(frozen=True, slots=True)
class Score:
    """Exactly one of: correct of total, a percent, or a rubric level."""

    correct: int | None = None
    total: int | None = None
    percent: float | None = None
    rubric_level: str | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Score:
        return cls(
            correct=d.get("correct"),
            total=d.get("total"),
            percent=d.get("percent"),
            rubric_level=d.get("rubric_level"),
        )

    def describe(self) -> str:
        """As a teacher reads it: 9/10, a percent to one decimal, a rubric level by its name."""
        if self.total is not None:
            return f"{self.correct}/{self.total}"
        if self.percent is not None:
            return f"{percent_text(self.percent)} %"
        return str(self.rubric_level)


def percent_text(percent: float) -> str:
    """A percent rounded to one decimal, without a trailing .0: 83.3, 80."""
    return f"{round(percent, 1):g}"


@dataclass(frozen=True, slots=True)
class Meta:
    """What every learning record shares. `seq` is the stream version: it
    orders records of one student by when they were recorded."""

    event_id: str
    seq: int
    occurred_at: datetime
    recorded_at: datetime
    recorded_by: str

    @property
    def order(self) -> tuple[datetime, int]:
        # occurred_at decides; equal times are ordered by recording.
        return (self.occurred_at, self.seq)


@dataclass(frozen=True, slots=True)
class Evidence:
    """An attempt, or a retake when `retake_of` is set."""

    meta: Meta
    objective_id: str
    form: str
    kind: str
    score: Score
    duration_seconds: float | None
    extended_time_factor: float
    retake_of: str | None

    @property
    def type(self) -> RecordType:
        return "retake" if self.retake_of else "attempt"


@dataclass(frozen=True, slots=True)
class Reflection:
    """That a student reflected on an attempt (what they wrote is personal data)."""

    meta: Meta
    on_event: str
    type: RecordType = "reflection"


@dataclass(frozen=True, slots=True)
class Override:
    """A teacher's decision (their reason is personal data)."""

    meta: Meta
    objective_id: str
    status: OverrideStatus
    type: RecordType = "override"


@dataclass(frozen=True, slots=True)
class BenchmarkResult:
    objective_id: str
    correct: int
    total: int


@dataclass(frozen=True, slots=True)
class Benchmark:
    meta: Meta
    benchmark_id: str
    name: str
    results: tuple[BenchmarkResult, ...]
    type: RecordType = "benchmark"


@dataclass(frozen=True, slots=True)
class Goal:
    meta: Meta
    target_mastered: int
    due: date
    type: RecordType = "goal"


@dataclass(frozen=True, slots=True)
class Void:
    meta: Meta
    target_event_id: str
    type: RecordType = "void"


LearningRecord = Evidence | Reflection | Override | Benchmark | Goal | Void


def parse_record(record_type: str, meta: Meta, body: Mapping[str, Any]) -> LearningRecord:
    """Build the typed record from a learning event's type and payload (a
    stored event's, or a read-model row's copy of it; rows written before
    schema version 2 hold the version-1 body, which reads the same here)."""
    if record_type in ("attempt", "retake"):
        acc = body.get("accommodations") or {}
        return Evidence(
            meta=meta,
            objective_id=body["objective_id"],
            form=body.get("form", ""),
            kind=body.get("evidence", "other"),
            score=Score.from_dict(body["score"]),
            duration_seconds=body.get("duration_seconds"),
            extended_time_factor=float(acc.get("extended_time_factor", 1) or 1),
            retake_of=body.get("retake_of") if record_type == "retake" else None,
        )
    if record_type == "reflection":
        return Reflection(meta=meta, on_event=body["on_event"])
    if record_type == "override":
        return Override(
            meta=meta,
            objective_id=body["objective_id"],
            status=body["status"],
        )
    if record_type == "benchmark":
        return Benchmark(
            meta=meta,
            benchmark_id=body["benchmark_id"],
            name=body.get("name", ""),
            results=tuple(
                BenchmarkResult(r["objective_id"], int(r["correct"]), int(r["total"]))
                for r in body["results"]
            ),
        )
    if record_type == "goal":
        due = body["due"]
        return Goal(
            meta=meta,
            target_mastered=int(body["target_mastered"]),
            due=due if isinstance(due, date) else date.fromisoformat(due),
        )
    if record_type == "void":
        return Void(meta=meta, target_event_id=body["target_event_id"])
    raise ValueError(f"unknown learning record type {record_type!r}")


def objectives_touched(record: LearningRecord, objective_of: Mapping[str, str]) -> set[str]:
    """The objectives whose status a record can change.

    `objective_of` maps earlier event ids of the same student to their
    objective (needed for reflections and voids, which name an event).
    """
    if isinstance(record, Benchmark):
        return {r.objective_id for r in record.results}
    oid = sole_objective(record, objective_of)
    return {oid} if oid else set()


def sole_objective(record: LearningRecord, objective_of: Mapping[str, str]) -> str | None:
    """The one objective a record bears on: its own, or that of the event it
    reflects on or voids (see `objectives_touched`); None for a benchmark
    (several objectives), a goal, or a reference to neither."""
    if isinstance(record, (Evidence, Override)):
        return record.objective_id
    if isinstance(record, Reflection):
        return objective_of.get(record.on_event)
    if isinstance(record, Void):
        return objective_of.get(record.target_event_id)
    return None
