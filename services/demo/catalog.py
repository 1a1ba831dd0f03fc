"""The demo's objectives with their rules, from the course outlines in courses.py.

Thresholds and methods follow the seeds (docs/demo.md lists where each comes
from): nine of ten in a generous time limit for fluency, four of five for
long multi-step problems, 80 % for quick digital checks, rubric levels for
tasks; `latest` mostly, and `highest`, twice on different days, the average
and the decaying average where a teacher would choose them.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from services.demo.courses import COURSES

LEVELS = ("emerging", "developing", "proficient", "exemplary")
FLUENCY_LIMIT_SECONDS = 1200  # ten problems in 20 minutes: generous
FORMS = ("A", "B")  # two short assessments per objective, the second for the second time around
EVIDENCE = {
    "F": ("quiz", "quiz", "exit_ticket", "exit_ticket", "boss_battle"),
    "M": ("quiz", "quiz", "assignment", "boss_battle"),
    "P": ("quiz",),  # digital, scored at once
    "R": ("performance_task", "project", "oral", "conference"),
}
METHODS: dict[str, dict[str, Any]] = {
    "latest": {"method": "latest"},
    "highest": {"method": "highest"},
    "n2d": {"method": "n_times", "n": 2, "distinct_days": True},
    "avg": {"method": "average"},
    "decay": {"method": "decaying_average", "weight": 0.65},
}


# The threshold on the 0-1 scale, per kind (a rubric level as its index over levels - 1).
NEED = {"F": Fraction(9, 10), "M": Fraction(4, 5), "P": Fraction(4, 5), "R": Fraction(2, 3)}


@dataclass(frozen=True)
class Objective:
    objective_id: str
    course: str
    course_name: str
    unit: int  # 1-based, within the course
    sequence: int
    statement: str
    kind: str  # F, M, P or R (courses.py)
    method: str  # a key of METHODS
    prerequisites: tuple[str, ...]

    @property
    def need(self) -> Fraction:
        return NEED[self.kind]

    @property
    def time_limit(self) -> int | None:
        return FLUENCY_LIMIT_SECONDS if self.kind == "F" else None

    def rule(self) -> dict[str, Any]:
        thresholds: dict[str, dict[str, Any]] = {
            "F": {"kind": "correct_of", "min_correct": 9, "of": 10},
            "M": {"kind": "correct_of", "min_correct": 4, "of": 5},
            "P": {"kind": "percent", "min": 80},
            "R": {"kind": "rubric", "levels": list(LEVELS), "min_level": "proficient"},
        }
        threshold = thresholds[self.kind]
        rule: dict[str, Any] = {"threshold": threshold, "calculation": METHODS[self.method]}
        if self.time_limit:
            rule["time_limit_seconds"] = self.time_limit
        return rule

    def body(self, effective_from: str) -> dict[str, Any]:
        """The body of PUT /v1/objectives/{objective_id}."""
        return {
            "statement": self.statement,
            "subject": "math",
            "course": self.course,
            "unit": f"u{self.unit}",
            "sequence": self.sequence,
            "prerequisites": list(self.prerequisites),
            "rule": self.rule(),
            "effective_from": effective_from,
        }


def _objectives() -> tuple[tuple[Objective, ...], ...]:
    """Per course, its objectives in teaching order. Within a unit each builds
    on the one before; a unit's first objective needs nothing, so a student
    can start any unit (the class map's "next" shows them all)."""
    out = []
    for course, name, _grade, units in COURSES:
        objectives: list[Objective] = []
        for u, (_title, rows) in enumerate(units, start=1):
            for o, (statement, kind, method) in enumerate(rows, start=1):
                oid = f"{course}.u{u}.o{o}"
                before = (f"{course}.u{u}.o{o - 1}",) if o > 1 else ()
                objectives.append(
                    Objective(oid, course, name, u, len(objectives), statement, kind, method, before)
                )
        out.append(tuple(objectives))
    return tuple(out)


BY_COURSE = _objectives()
COURSE_IDS = tuple(c[0] for c in COURSES)
ALL = tuple(o for course in BY_COURSE for o in course)
BY_ID = {o.objective_id: o for o in ALL}


def unit_titles(course: str) -> tuple[str, ...]:
    units = COURSES[COURSE_IDS.index(course)][3]
    return tuple(title for title, _ in units)


def path_from(course: str) -> tuple[Objective, ...]:
    """What a student of `course` works through: that course, then (when a
    student finishes early, as mastery learning lets them) the next ones."""
    return tuple(o for c in BY_COURSE[COURSE_IDS.index(course) :] for o in c)
