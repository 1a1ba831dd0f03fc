"""Growth trajectories, benchmark contradictions, and school and district summaries."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import Connection, func, select

from domain.growth import trajectory
from domain.records import Goal
from domain.rules.benchmark import ContradictionKind
from domain.rules.status import StatusName, voided_ids
from infra.readmodels import (
    classes,
    contradictions,
    enrolments,
    learning_records,
    mastery_current,
    objectives,
    record_of_row,
    schools,
    students,
)
from infra.tokens import Principal
from services.access_records import names_students
from services.errors import InvalidInput, NotFound
from services.http import require_role, scoped_students
from services.inputs import Id, IdPath
from services.query.access import VisibleStudent
from services.query.classes import visible_class
from services.query.summaries import SummaryOut, summarise
from services.reads import ReadDep, json_response

router = APIRouter(prefix="/v1")
_CHUNK = 400


class PointOut(BaseModel):
    period_start: date
    mastered_total: int


class GoalOut(BaseModel):
    target_mastered: int
    due: date
    projected_at_due: float
    on_track: bool


class TrajectoryOut(BaseModel):
    student_id: str
    interval: Literal["week"]
    points: list[PointOut]
    rate_per_week: float
    goal: GoalOut | None


class ContradictionOut(BaseModel):
    student_id: str
    objective_id: str
    kind: ContradictionKind
    mastery_status: StatusName
    benchmark_id: str
    benchmark_percent: float
    detected_at: datetime
    resolved_at: datetime | None = None  # only with include_resolved


@router.get("/students/{student_id}/trajectory", response_model=TrajectoryOut, tags=["students"])
def get_trajectory(
    student_id: VisibleStudent,
    read: ReadDep,
    interval: Annotated[Literal["week"], Query(description="the period of the points")] = "week",
) -> Response:
    lr, conn = learning_records, read.conn
    mastered = [
        datetime.fromisoformat(m)
        for m in conn.execute(
            select(mastery_current.c.mastered_at).where(
                mastery_current.c.student_id == student_id, mastery_current.c.status == "mastered"
            )
        ).scalars()
        if m
    ]
    started = [
        datetime.fromisoformat(t)
        for t in conn.execute(
            select(lr.c.occurred_at).where(
                lr.c.student_id == student_id, lr.c.record_type.in_(["attempt", "retake"])
            )
        ).scalars()
    ]
    # Goals, and the voids that may retract them, bear on no objective.
    loose = [
        record_of_row(r)
        for r in conn.execute(
            select(lr).where(
                lr.c.student_id == student_id,
                lr.c.objective_id.is_(None),
                lr.c.record_type.in_(["goal", "void"]),
            )
        )
    ]
    voided = voided_ids(loose)
    goals = [r for r in loose if isinstance(r, Goal) and r.meta.event_id not in voided]
    goal = max(goals, key=lambda g: g.meta.order, default=None)  # the latest set decides
    today = datetime.now(UTC).date()
    t = trajectory(mastered, min(started, default=None), goal, today, _reachable(conn, student_id))
    body = {
        "student_id": student_id,
        "interval": interval,
        "points": [{"period_start": p, "mastered_total": n} for p, n in t.points],
        "rate_per_week": t.rate_per_week,
        "goal": {
            "target_mastered": t.goal.target_mastered,
            "due": t.goal.due,
            "projected_at_due": t.goal.projected_at_due,
            "on_track": t.goal.on_track,
        }
        if t.goal
        else None,
    }
    return json_response(body, read.position)


def _reachable(conn: Connection, student_id: str) -> int:
    """How many objectives the student could master: those of the courses it
    has any status in (docs/read-models.md), or the whole catalog before any."""
    o = objectives
    courses = (
        select(o.c.course)
        .join(mastery_current, mastery_current.c.objective_id == o.c.objective_id)
        .where(mastery_current.c.student_id == student_id)
        .distinct()
    )
    mine = conn.execute(select(func.count()).select_from(o).where(o.c.course.in_(courses))).scalar_one()
    if mine:
        return int(mine)
    return int(conn.execute(select(func.count()).select_from(o)).scalar_one())


@router.get(
    "/contradictions",
    response_model=list[ContradictionOut],
    response_model_exclude_unset=True,
    tags=["insights"],
)
def get_contradictions(
    request: Request,
    read: ReadDep,
    class_id: Annotated[Id | None, Query()] = None,
    school_id: Annotated[Id | None, Query()] = None,
    include_resolved: Annotated[bool, Query(description="also those resolved, with resolved_at")] = False,
) -> Response:
    """Open contradictions between benchmarks and recorded mastery for the
    students of a class or a school, oldest first."""
    who, conn = read.who, read.conn
    require_role(who, "admin", "auditor", "teacher", "leader")
    if (class_id is None) == (school_id is None):
        raise InvalidInput(
            "give exactly one of class_id and school_id",
            errors=[{"loc": ["query", "class_id"], "msg": "give exactly one of class_id and school_id"}],
        )
    c = contradictions
    if class_id is not None:
        visible_class(conn, who, class_id)
        ids = set(
            conn.execute(select(enrolments.c.student_id).where(enrolments.c.class_id == class_id)).scalars()
        )
    else:
        assert school_id is not None  # exactly one was given
        if not visible_school(conn, who, school_id):
            raise NotFound(f"no school {school_id!r}")
        ids = set(
            conn.execute(select(students.c.student_id).where(students.c.school_id == school_id)).scalars()
        )
    scope = scoped_students(conn, who)
    if scope is not None:  # a teacher sees the school's students it teaches, a leader its schools
        ids &= scope
    wanted = sorted(ids)
    cols = [c.c.student_id, c.c.objective_id, c.c.kind, c.c.mastery_status]
    cols += [c.c.benchmark_id, c.c.benchmark_percent, c.c.detected_at, c.c.resolved_at]
    out: list[dict[str, Any]] = []
    for i in range(0, len(wanted), _CHUNK):
        q = select(*cols).where(c.c.student_id.in_(wanted[i : i + _CHUNK]))
        if not include_resolved:
            q = q.where(c.c.resolved_at.is_(None))
        for sid, oid, kind, status, bid, percent, detected, resolved in conn.execute(q):
            # A ContradictionOut; resolved_at only when asked for (response_model_exclude_unset).
            item = {
                "student_id": sid,
                "objective_id": oid,
                "kind": kind,
                "mastery_status": status,
                "benchmark_id": bid,
                "benchmark_percent": round(percent, 1),  # as people read it; stored unrounded
                "detected_at": datetime.fromisoformat(detected),
            }
            if include_resolved:
                item["resolved_at"] = datetime.fromisoformat(resolved) if resolved else None
            out.append(item)
    out.sort(key=lambda x: (x["detected_at"], x["student_id"], x["objective_id"]))
    names_students(request, sorted({x["student_id"] for x in out}))  # those the answer names
    return json_response(out, read.position)


def visible_school(conn: Connection, who: Principal, school_id: str) -> bool:
    """Whether the school exists and, for a teacher, has a class it teaches,
    for a leader is one of its schools: a school outside the caller's scope
    answers as one that does not exist, so that its existence is not revealed."""
    if who.role == "teacher":
        taught = who.scoped("class")
        q = select(classes.c.class_id).where(classes.c.class_id.in_(taught), classes.c.school_id == school_id)
    else:
        q = select(schools.c.school_id).where(schools.c.school_id == school_id)
        if who.role == "leader":
            q = q.where(schools.c.school_id.in_(who.scoped("school")))
    return conn.execute(q.limit(1)).first() is not None


# A leader reads the summary of its schools, and the district's: a principal
# compares its school with the district, and the summary names no student
# (cells under MIN_CELL_SIZE are suppressed, as for analysts).
SUMMARY_READERS = ("admin", "auditor", "analyst", "leader")


@router.get("/schools/{school_id}/summary", response_model=SummaryOut, tags=["insights"])
def school_summary(school_id: IdPath, read: ReadDep) -> SummaryOut:
    require_role(read.who, *SUMMARY_READERS)
    if not visible_school(read.conn, read.who, school_id):
        raise NotFound(f"no school {school_id!r}")
    return summarise(read.conn, school_id)


@router.get("/district/summary", response_model=SummaryOut, tags=["insights"])
def district_summary(read: ReadDep) -> SummaryOut:
    require_role(read.who, *SUMMARY_READERS)
    return summarise(read.conn, None)
