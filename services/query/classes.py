"""A class at a glance: the mastery map, next objectives, re-teaching groups and peer tutors.

Read-time queries over rm_mastery and the roster read models (one indexed
query each for the class, its enrolments, their mastery rows and the catalog
of the courses they work in), so they follow every status change at once and
need no tables of their own (docs/read-models.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.engine import Connection

from infra.tokens import Principal
from services.errors import NotFound
from services.http import LedgerDep, PositionDep, PrincipalDep, require_role
from services.projections.catalog import classes, enrolments, objectives, students
from services.projections.mastery import mastery_current
from services.query.access import IdPath
from services.query.schemas import StatusName

router = APIRouter(prefix="/v1", tags=["classes"])
CLASS_READERS = ("admin", "auditor", "teacher")
_CHUNK = 400


class ObjectiveRefOut(BaseModel):
    objective_id: str
    statement: str
    subject: str
    course: str
    sequence: int
    prerequisites: list[str]


class CellOut(BaseModel):
    status: StatusName
    flags: list[str]


class MapRowOut(BaseModel):
    student_id: str
    name: str
    mastered: int
    statuses: dict[str, CellOut]


class MasteryMapOut(BaseModel):
    class_id: str
    objectives: list[ObjectiveRefOut]
    students: list[MapRowOut]


class NextForStudentOut(BaseModel):
    student_id: str
    name: str
    objectives: list[str]


class NextOut(BaseModel):
    class_id: str
    students: list[NextForStudentOut]


class GroupMemberOut(BaseModel):
    student_id: str
    name: str
    status: StatusName
    score: float | None
    evidence_count: int


class GroupOut(BaseModel):
    objective_id: str
    statement: str
    reteach: list[GroupMemberOut]
    peer_tutors: list[GroupMemberOut]


class GroupsOut(BaseModel):
    class_id: str
    groups: list[GroupOut]


@dataclass
class ClassView:
    class_id: str
    students: dict[str, str]  # student_id -> name, in id order
    objectives: list[Any]  # rm_objectives rows of the class's courses, in course order
    rows: dict[tuple[str, str], Any]  # (student, objective) -> rm_mastery row


def visible_class(conn: Connection, who: Principal, class_id: str) -> None:
    """403 for a role that reads no class; 404 for a class that does not exist
    or that a teacher does not teach (never reveal that it exists)."""
    require_role(who, *CLASS_READERS)
    if who.role == "teacher" and f"class:{class_id}" not in who.scopes:
        raise NotFound(f"no class {class_id!r}")
    if conn.execute(select(classes.c.class_id).where(classes.c.class_id == class_id)).first() is None:
        raise NotFound(f"no class {class_id!r}")


def load_class(conn: Connection, class_id: str) -> ClassView:
    enrolled = select(enrolments.c.student_id).where(enrolments.c.class_id == class_id)
    names = {
        r.student_id: r.name
        for r in conn.execute(
            select(students.c.student_id, students.c.name)
            .where(students.c.student_id.in_(enrolled))
            .order_by(students.c.student_id)
        )
    }
    ids = list(names)
    rows: dict[tuple[str, str], Any] = {}
    for i in range(0, len(ids), _CHUNK):
        q = select(mastery_current).where(mastery_current.c.student_id.in_(ids[i : i + _CHUNK]))
        rows.update({(r.student_id, r.objective_id): r for r in conn.execute(q)})
    # The class works in the courses its students have records in; the map
    # shows every objective of those courses, so untouched ones are visible too.
    touched = sorted({oid for _, oid in rows})
    courses = set(
        conn.execute(select(objectives.c.course).where(objectives.c.objective_id.in_(touched))).scalars()
    )
    objs = list(
        conn.execute(
            select(objectives)
            .where(objectives.c.course.in_(sorted(courses)))
            .order_by(objectives.c.course, objectives.c.sequence, objectives.c.objective_id)
        )
    )
    return ClassView(class_id, names, objs, rows)


def _ref(o: Any) -> ObjectiveRefOut:
    return ObjectiveRefOut(
        objective_id=o.objective_id,
        statement=o.statement,
        subject=o.subject,
        course=o.course,
        sequence=o.sequence,
        prerequisites=list(o.prerequisites),
    )


def _status(view: ClassView, student: str, oid: str) -> str:
    row = view.rows.get((student, oid))
    return str(row.status) if row is not None else "not_started"


@router.get("/classes/{class_id}/mastery-map", response_model=MasteryMapOut)
def mastery_map(class_id: IdPath, ledger: LedgerDep, who: PrincipalDep, _pos: PositionDep) -> MasteryMapOut:
    with ledger.engine.connect() as conn:
        visible_class(conn, who, class_id)
        view = load_class(conn, class_id)
    out = []
    for sid, name in view.students.items():
        cells = {}
        for o in view.objectives:
            row = view.rows.get((sid, o.objective_id))
            cells[o.objective_id] = CellOut(
                status=row.status if row is not None else "not_started",
                flags=list(row.flags) if row is not None else [],
            )
        mastered = sum(1 for c in cells.values() if c.status == "mastered")
        out.append(MapRowOut(student_id=sid, name=name, mastered=mastered, statuses=cells))
    return MasteryMapOut(class_id=class_id, objectives=[_ref(o) for o in view.objectives], students=out)


@router.get("/classes/{class_id}/next", response_model=NextOut)
def next_objectives(class_id: IdPath, ledger: LedgerDep, who: PrincipalDep, _pos: PositionDep) -> NextOut:
    """Per student, in course order: not yet mastered, every prerequisite mastered.
    A prerequisite the catalog does not know cannot be mastered, so it blocks."""
    with ledger.engine.connect() as conn:
        visible_class(conn, who, class_id)
        view = load_class(conn, class_id)
    out = []
    for sid, name in view.students.items():
        ready = [
            o.objective_id
            for o in view.objectives
            if _status(view, sid, o.objective_id) != "mastered"
            and all(_status(view, sid, p) == "mastered" for p in o.prerequisites)
        ]
        out.append(NextForStudentOut(student_id=sid, name=name, objectives=ready))
    return NextOut(class_id=class_id, students=out)


def _member(view: ClassView, sid: str, row: Any) -> GroupMemberOut:
    return GroupMemberOut(
        student_id=sid,
        name=view.students[sid],
        status=row.status,
        score=row.score,
        evidence_count=row.evidence_count,
    )


@router.get("/classes/{class_id}/groups", response_model=GroupsOut)
def groups(class_id: IdPath, ledger: LedgerDep, who: PrincipalDep, _pos: PositionDep) -> GroupsOut:
    """Per objective with anyone to re-teach: the students with counting
    evidence who have not mastered it, and the class-mates who have mastered it
    as peer tutors (not those whose latest benchmark contradicts that mastery)."""
    with ledger.engine.connect() as conn:
        visible_class(conn, who, class_id)
        view = load_class(conn, class_id)
    out = []
    for o in view.objectives:
        reteach, tutors = [], []
        for sid in view.students:
            row = view.rows.get((sid, o.objective_id))
            if row is None:
                continue
            if row.status != "mastered" and row.evidence_count > 0:
                reteach.append(_member(view, sid, row))
            elif row.status == "mastered" and "benchmark_disagrees" not in row.flags:
                tutors.append(_member(view, sid, row))
        if reteach:
            out.append(
                GroupOut(
                    objective_id=o.objective_id, statement=o.statement, reteach=reteach, peer_tutors=tutors
                )
            )
    return GroupsOut(class_id=class_id, groups=out)
