"""School and district summaries: how much learning is happening, by grade,
subject and week, and by class (in a school) or school (in the district).

The headline measure is objectives mastered per student per week. A cell's
students are those of its grade (in the school, or the district) with any
record on an objective of its subject; a cell with fewer than
`MIN_CELL_SIZE` of them is suppressed: every number null, `suppressed: true`.
All cells of one grade × subject share that population, so a suppressed week
cannot be recovered from the group's totals or from the other weeks.

Computed at read time from rm_mastery joined to the roster and catalog read
models, counted by the database (docs/read-models.md says when that stops
being enough).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import Select, case, func, select
from sqlalchemy.engine import Connection

from domain.growth import week_start
from infra.readmodels import classes, enrolments, mastery_current, objectives, schools, students

MIN_CELL_SIZE = 10
_CHUNK = 400
MEASURE = "objectives mastered per student per week"
UnitKind = Literal["class", "school"]  # what a summary's unit is: a school's classes, the district's schools


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


class UnitSummaryOut(BaseModel):
    """The headline measure for one class (in a school's summary) or one
    school (in the district's), over every grade and subject of its students."""

    kind: UnitKind
    id: str
    name: str
    suppressed: bool
    students: int | None
    mastered: int | None
    mastered_per_student: float | None
    mastered_per_student_per_week: float | None


class SummaryOut(BaseModel):
    school_id: str | None
    measure: str
    min_cell_size: int
    weeks: list[date]
    groups: list[GroupSummaryOut]
    cells: list[WeekCellOut]
    breakdown: list[UnitSummaryOut]


def _rate(n: int, d: float) -> float:
    return round(n / d, 3) if d else 0.0


def _measured(students: int, mastered: int, weeks: int | None = None) -> dict[str, Any]:
    """The numbers of a group, cell or unit of `students` students, with the
    one suppression rule: under MIN_CELL_SIZE every number is null. With
    `weeks`, also the headline rate over that many weeks (at least one)."""
    hidden = students < MIN_CELL_SIZE
    out: dict[str, Any] = {
        "suppressed": hidden,
        "students": None if hidden else students,
        "mastered": None if hidden else mastered,
        "mastered_per_student": None if hidden else _rate(mastered, students),
    }
    if weeks is not None:
        out["mastered_per_student_per_week"] = None if hidden else _rate(mastered, students * max(1, weeks))
    return out


def _counts(where: list[Any]) -> tuple[Select[Any], Select[Any]]:
    """Two aggregates over the mastery rows `where` selects: per grade and
    subject (students, mastered, in progress), and mastered per grade, subject
    and local day."""
    m, s, o = mastery_current, students, objectives
    rows = m.join(s, s.c.student_id == m.c.student_id).join(o, o.c.objective_id == m.c.objective_id)
    # Per student first, then per group: COUNT(DISTINCT) sorted the district's
    # 200k rows on disk; two hash aggregates stay in memory.
    per_student = (
        select(
            s.c.grade,
            o.c.subject,
            func.sum(case((m.c.status == "mastered", 1), else_=0)).label("mastered"),
            func.sum(case((m.c.status == "in_progress", 1), else_=0)).label("in_progress"),
        )
        .select_from(rows)
        .where(*where)
        .group_by(s.c.grade, o.c.subject, m.c.student_id)
        .subquery()
    )
    p = per_student.c
    totals = select(p.grade, p.subject, func.count(), func.sum(p.mastered), func.sum(p.in_progress)).group_by(
        p.grade, p.subject
    )
    # mastered_at is written by isoformat() in the classroom's own offset, so
    # its first ten characters are the local date the week is taken from.
    day = func.substr(m.c.mastered_at, 1, 10)
    by_day = (
        select(s.c.grade, o.c.subject, day, func.count())
        .select_from(rows)
        .where(m.c.status == "mastered", m.c.mastered_at.is_not(None), *where)
        .group_by(s.c.grade, o.c.subject, day)
    )
    return totals, by_day


def _mastered_per_student(where: list[Any]) -> Select[Any]:
    m = mastery_current
    mastered = func.sum(case((m.c.status == "mastered", 1), else_=0))
    return select(m.c.student_id, mastered).where(*where).group_by(m.c.student_id)


def unit_members(conn: Connection, school_id: str | None) -> tuple[UnitKind, Any]:
    """The units of a breakdown and their students: (unit id, name, student id)
    rows of a school's classes, or of the district's schools."""
    if school_id is None:
        q = select(schools.c.school_id, schools.c.name, students.c.student_id).join(
            students, students.c.school_id == schools.c.school_id
        )
        return "school", conn.execute(q)
    q = (
        select(classes.c.class_id, classes.c.name, enrolments.c.student_id)
        .join(enrolments, enrolments.c.class_id == classes.c.class_id)
        .where(classes.c.school_id == school_id)
    )
    return "class", conn.execute(q)


def _breakdown(
    conn: Connection, school_id: str | None, per_student: dict[str, int], weeks: int
) -> list[UnitSummaryOut]:
    """By class in a school, by school in the district. A unit's students are
    its members with any mastery row; a student in two classes counts in both,
    with all of its mastery (a class names no subject: where subjects are
    taught in separate classes, the grade × subject groups say more)."""
    kind, rows = unit_members(conn, school_id)
    members: dict[tuple[str, str], list[int]] = defaultdict(list)
    for unit_id, name, student_id in rows:
        if student_id in per_student:
            members[(unit_id, name)].append(per_student[student_id])
    return [
        UnitSummaryOut(kind=kind, id=unit_id, name=name, **_measured(len(counts), sum(counts), weeks))
        for (unit_id, name), counts in sorted(members.items())
    ]


def scopes_of(conn: Connection, school_id: str | None) -> list[list[Any]]:
    """The WHERE clauses that together select the scope's mastery rows: none
    for the district; a school's students' ids, in chunks (joined on
    school_id, PostgreSQL scanned every mastery row of the district). A
    student is in one chunk only, so the chunks' counts add up."""
    if school_id is None:
        return [[]]
    ids = list(conn.execute(select(students.c.student_id).where(students.c.school_id == school_id)).scalars())
    return [[mastery_current.c.student_id.in_(ids[i : i + _CHUNK])] for i in range(0, len(ids), _CHUNK)]


def weeks_spanning(seen: set[date]) -> list[date]:
    """Every week from the first seen to the last, none left out."""
    out: list[date] = []
    if seen:
        w = min(seen)
        while w <= max(seen):
            out.append(w)
            w += timedelta(days=7)
    return out


def summarise(conn: Connection, school_id: str | None) -> SummaryOut:
    # The database counts, so that one row per group (and per group and day)
    # comes back rather than every mastery row of the scope (200k for the
    # district at 1M events).
    scopes = scopes_of(conn, school_id)
    population: dict[tuple[str, str], int] = defaultdict(int)
    mastered: dict[tuple[str, str], int] = defaultdict(int)
    in_progress: dict[tuple[str, str], int] = defaultdict(int)
    weekly: dict[tuple[str, str, date], int] = defaultdict(int)
    per_student: dict[str, int] = {}
    for where in scopes:
        per_student.update((sid, int(k or 0)) for sid, k in conn.execute(_mastered_per_student(where)))
        totals, by_day = _counts(where)
        for grade, subject, n, n_mastered, n_in_progress in conn.execute(totals):
            population[(grade, subject)] += int(n)
            mastered[(grade, subject)] += int(n_mastered or 0)
            in_progress[(grade, subject)] += int(n_in_progress or 0)
        for grade, subject, local_day, n in conn.execute(by_day):
            if local_day:
                weekly[(grade, subject, week_start(date.fromisoformat(local_day)))] += int(n)
    weeks = weeks_spanning({w for _, _, w in weekly})
    groups, cells = [], []
    for grade, subject in sorted(population):
        key = (grade, subject)
        n = population[key]
        group = _measured(n, mastered[key], len(weeks))
        hidden = group["suppressed"]
        groups.append(
            GroupSummaryOut(
                grade=grade, subject=subject, in_progress=None if hidden else in_progress[key], **group
            )
        )
        for w in weeks:
            cell = _measured(n, weekly.get((grade, subject, w), 0))
            cells.append(WeekCellOut(grade=grade, subject=subject, week=w, **cell))
    return SummaryOut(
        school_id=school_id,
        measure=MEASURE,
        min_cell_size=MIN_CELL_SIZE,
        weeks=weeks,
        groups=groups,
        cells=cells,
        breakdown=_breakdown(conn, school_id, per_student, len(weeks)),
    )
