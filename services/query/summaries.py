"""School and district summaries: how much learning is happening, by grade, subject and week.

The headline measure is objectives mastered per student per week. A cell's
students are those of its grade (in the school, or the district) with any
record on an objective of its subject; a cell with fewer than
`MIN_CELL_SIZE` of them is suppressed: every number null, `suppressed: true`.
All cells of one grade × subject share that population, so a suppressed week
cannot be recovered from the group's totals or from the other weeks.

Computed at read time from rm_mastery joined to the roster and catalog read
models (docs/read-models.md says when that stops being enough).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.engine import Connection

from domain.growth import week_start
from services.projections.catalog import objectives, students
from services.projections.mastery import mastery_current

MIN_CELL_SIZE = 10
MEASURE = "objectives mastered per student per week"


class GroupSummaryOut(BaseModel):
    grade: str
    subject: str
    suppressed: bool
    students: int | None
    mastered: int | None
    in_progress: int | None
    mastered_per_student: float | None
    mastered_per_student_per_week: float | None


class WeekCellOut(BaseModel):
    grade: str
    subject: str
    week: date
    suppressed: bool
    students: int | None
    mastered: int | None
    mastered_per_student: float | None


class SummaryOut(BaseModel):
    school_id: str | None
    measure: str
    min_cell_size: int
    weeks: list[date]
    groups: list[GroupSummaryOut]
    cells: list[WeekCellOut]


def _rate(n: int, d: float) -> float:
    return round(n / d, 3) if d else 0.0


def summarise(conn: Connection, school_id: str | None) -> SummaryOut:
    m, s, o = mastery_current, students, objectives
    q = select(s.c.grade, o.c.subject, m.c.student_id, m.c.status, m.c.mastered_at).select_from(
        m.join(s, s.c.student_id == m.c.student_id).join(o, o.c.objective_id == m.c.objective_id)
    )
    if school_id is not None:
        q = q.where(s.c.school_id == school_id)
    population: dict[tuple[str, str], set[str]] = defaultdict(set)
    mastered: dict[tuple[str, str], int] = defaultdict(int)
    in_progress: dict[tuple[str, str], int] = defaultdict(int)
    weekly: dict[tuple[str, str, date], int] = defaultdict(int)
    for r in conn.execute(q):
        key = (r.grade, r.subject)
        population[key].add(r.student_id)
        if r.status == "mastered":
            mastered[key] += 1
            if r.mastered_at:
                weekly[(*key, week_start(datetime.fromisoformat(r.mastered_at).date()))] += 1
        elif r.status == "in_progress":
            in_progress[key] += 1
    seen = sorted({w for _, _, w in weekly})
    weeks: list[date] = []
    if seen:
        w = seen[0]
        while w <= seen[-1]:
            weeks.append(w)
            w += timedelta(days=7)
    groups, cells = [], []
    for grade, subject in sorted(population):
        key = (grade, subject)
        n = len(population[key])
        hidden = n < MIN_CELL_SIZE
        groups.append(
            GroupSummaryOut(
                grade=grade,
                subject=subject,
                suppressed=hidden,
                students=None if hidden else n,
                mastered=None if hidden else mastered[key],
                in_progress=None if hidden else in_progress[key],
                mastered_per_student=None if hidden else _rate(mastered[key], n),
                mastered_per_student_per_week=None
                if hidden
                else _rate(mastered[key], n * max(1, len(weeks))),
            )
        )
        for w in weeks:
            k = weekly.get((grade, subject, w), 0)
            cells.append(
                WeekCellOut(
                    grade=grade,
                    subject=subject,
                    week=w,
                    suppressed=hidden,
                    students=None if hidden else n,
                    mastered=None if hidden else k,
                    mastered_per_student=None if hidden else _rate(k, n),
                )
            )
    return SummaryOut(
        school_id=school_id,
        measure=MEASURE,
        min_cell_size=MIN_CELL_SIZE,
        weeks=weeks,
        groups=groups,
        cells=cells,
    )
