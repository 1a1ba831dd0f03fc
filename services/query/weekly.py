"""The amount of learning week by week, by class (in a school) or by school
(in the district): `GET /v1/schools/{id}/summary/weekly` and
`GET /v1/district/summary/weekly`, what the leader's charts draw
(docs/dashboards.md).

The summaries give the headline measure by class or school over the whole
span (`breakdown`) and week by week only by grade and subject; these give
the breakdown's units week by week. The same rules as the summaries
(services/query/summaries.py): a unit's students are its members with any
mastery row; a unit of fewer than `MIN_CELL_SIZE` of them is suppressed,
every number of every week null, so that no week of it can be recovered;
a week is that of `mastered_at` in the classroom's own offset; the weeks
are the summary's.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from domain.growth import week_start
from infra.readmodels import mastery_current
from services.errors import NotFound
from services.http import require_role
from services.inputs import IdPath
from services.query.insights import SUMMARY_READERS, visible_school
from services.query.summaries import MEASURE, MIN_CELL_SIZE, UnitKind, scopes_of, unit_members, weeks_spanning
from services.reads import ReadDep

router = APIRouter(prefix="/v1", tags=["insights"])


class UnitWeekOut(BaseModel):
    week: date
    mastered: int | None
    mastered_per_student: float | None


class UnitWeeksOut(BaseModel):
    kind: UnitKind
    id: str
    name: str
    suppressed: bool
    students: int | None
    weeks: list[UnitWeekOut]


class WeeklyOut(BaseModel):
    school_id: str | None
    measure: str
    min_cell_size: int
    weeks: list[date]
    units: list[UnitWeeksOut]


def _mastered_by_week(conn: Connection, school_id: str | None) -> dict[str, dict[date, int]]:
    """Objectives mastered per student and week, for every student of the
    scope with a mastery row (an empty dict for one with none mastered)."""
    m = mastery_current
    day = func.substr(m.c.mastered_at, 1, 10)  # the local date, as in the summaries
    out: dict[str, dict[date, int]] = {}
    for where in scopes_of(conn, school_id):
        for (sid,) in conn.execute(select(m.c.student_id).where(*where).distinct()):
            out.setdefault(sid, defaultdict(int))
        q = (
            select(m.c.student_id, day, func.count())
            .where(m.c.status == "mastered", m.c.mastered_at.is_not(None), *where)
            .group_by(m.c.student_id, day)
        )
        for sid, local_day, n in conn.execute(q):
            if local_day:
                out[sid][week_start(date.fromisoformat(local_day))] += int(n)
    return out


def weekly(conn: Connection, school_id: str | None) -> WeeklyOut:
    per_student = _mastered_by_week(conn, school_id)
    weeks = weeks_spanning({w for by_week in per_student.values() for w in by_week})
    kind, rows = unit_members(conn, school_id)
    members: dict[tuple[str, str], list[str]] = defaultdict(list)
    for unit_id, name, student_id in rows:
        if student_id in per_student:
            members[(unit_id, name)].append(student_id)
    units = []
    for (unit_id, name), ids in sorted(members.items()):
        n = len(ids)
        hidden = n < MIN_CELL_SIZE
        cells: list[dict[str, Any]] = []
        for w in weeks:
            k = sum(per_student[sid].get(w, 0) for sid in ids)
            cells.append(
                {
                    "week": w,
                    "mastered": None if hidden else k,
                    "mastered_per_student": None if hidden else round(k / n, 3),
                }
            )
        units.append(
            UnitWeeksOut(
                kind=kind,
                id=unit_id,
                name=name,
                suppressed=hidden,
                students=None if hidden else n,
                weeks=[UnitWeekOut(**c) for c in cells],
            )
        )
    return WeeklyOut(
        school_id=school_id, measure=MEASURE, min_cell_size=MIN_CELL_SIZE, weeks=weeks, units=units
    )


@router.get("/schools/{school_id}/summary/weekly", response_model=WeeklyOut)
def school_weekly(school_id: IdPath, read: ReadDep) -> WeeklyOut:
    """The school's classes, week by week."""
    require_role(read.who, *SUMMARY_READERS)
    if not visible_school(read.conn, read.who, school_id):
        raise NotFound(f"no school {school_id!r}")
    return weekly(read.conn, school_id)


@router.get("/district/summary/weekly", response_model=WeeklyOut)
def district_weekly(read: ReadDep) -> WeeklyOut:
    """The district's schools, week by week."""
    require_role(read.who, *SUMMARY_READERS)
    return weekly(read.conn, None)
