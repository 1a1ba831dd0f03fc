"""When what happened in a classroom reaches the store, and who entered it.

A teacher enters a score minutes to days after the assessment, depending on
what it was: a digital check syncs within minutes, exit tickets and one-on-one
checks go in after school or the next evening, paper quizzes within three
days, projects and performance tasks within a week; now and then a stack of
papers is entered two or three weeks late (a late-arriving record that lands
in its place by `occurred_at`). A student posts their own reflection a few
minutes after writing it; benchmark results arrive with the assessment
platform's nightly sync. Nothing is recorded before it happened nor more than
`MAX_DELAY` after.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.demo.calendar import local

MAX_DELAY = timedelta(days=21)
LATE = 0.015  # of the teacher-entered assessments
SYNC_RECORDER = "ingest:assessment-platform"


@dataclass(frozen=True)
class Happening:
    """An event (the body of POST /v1/events), when it was recorded and by
    whom (the store's `recorded_by`: `teacher:<name>`, `student:<id>`, ...)."""

    event: dict[str, Any]
    recorded_at: datetime
    recorded_by: str


HOW = {
    "quiz_digital": "minutes",
    "exit_ticket": "after_school",
    "boss_battle": "after_school",
    "oral": "after_school",
    "conference": "after_school",
    "quiz": "paper",
    "assignment": "paper",
    "project": "task",
    "performance_task": "task",
}


def _evening(rng: random.Random, occurred: datetime, days: int, start: int, end: int) -> datetime:
    """A local time between `start` and `end` minutes after midnight, `days` after the occurrence."""
    day = occurred.date() + timedelta(days=days)
    return local(day, rng.randint(start, end) + rng.random())


def recorded_after(rng: random.Random, occurred: datetime, how: str) -> datetime:
    """When an event that occurred at `occurred` is recorded, for one way of recording (HOW)."""
    if how == "minutes":
        at = occurred + timedelta(seconds=rng.randint(60, 600))
    elif how == "student":
        at = occurred + timedelta(seconds=rng.randint(120, 900))
    elif how == "teacher_now":
        at = occurred + timedelta(seconds=rng.randint(120, 1800))
    elif how == "after_school":
        days = 0 if rng.random() < 0.6 else rng.randint(1, 2)
        at = (
            _evening(rng, occurred, days, 15 * 60 + 10, 17 * 60 + 30)
            if days == 0
            else _evening(rng, occurred, days, 19 * 60, 21 * 60 + 30)
        )
    elif how == "paper":
        at = _evening(
            rng, occurred, rng.choices((0, 1, 2, 3), (0.3, 0.35, 0.2, 0.15))[0], 15 * 60 + 10, 21 * 60 + 30
        )
    elif how == "task":
        at = _evening(rng, occurred, rng.randint(2, 6), 16 * 60, 21 * 60 + 30)
    elif how == "sync":
        at = _evening(rng, occurred, 1, 2 * 60 + 30, 2 * 60 + 50)  # the nightly sync, after 02:00 (DST)
    elif how == "late":
        at = _evening(rng, occurred, rng.randint(8, 19), 16 * 60, 21 * 60 + 30)
    else:
        raise ValueError(f"unknown way of recording {how!r}")
    return max(at, occurred + timedelta(minutes=1))


def how_entered(rng: random.Random, evidence: str, kind: str) -> str:
    """How a teacher enters an assessment of this evidence kind (objective kind P is digital)."""
    if rng.random() < LATE:
        return "late"
    return "minutes" if kind == "P" else HOW[evidence]
