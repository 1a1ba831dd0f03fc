"""A class at a glance: the mastery map, next objectives, re-teaching groups and peer tutors.

Read-time queries over rm_mastery and the roster read models (three indexed
queries: the class with its students' names, their mastery rows, and the
objectives of the courses they work in), so they follow every status change
at once and need no tables of their own (docs/read-models.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy import String, cast, select
from sqlalchemy.engine import Connection

from domain.rules.status import StatusName
from infra.keys import Opener, StudentKeys
from infra.readmodels import classes, enrolments, mastery_current, objectives, students
from infra.tokens import Principal
from services.access_records import names_students
from services.errors import NotFound
from services.http import KeysDep, require_role
from services.inputs import IdPath
from services.query.scores import Levels, display, rubric_levels
from services.reads import ReadDep, json_response

router = APIRouter(prefix="/v1", tags=["classes"])
CLASS_READERS = ("admin", "auditor", "teacher", "leader")
_CHUNK = 400


class ObjectiveRefOut(BaseModel):
    objective_id: str
    statement: str
    subject: str
    course: str
    unit: str  # for grouping a map by unit (the dashboards)
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
    score_display: str | None = None  # as in ObjectiveStatusOut
    evidence_count: int


class GroupOut(BaseModel):
    objective_id: str
    statement: str
    reteach: list[GroupMemberOut]
    peer_tutors: list[GroupMemberOut]


class GroupsOut(BaseModel):
    class_id: str
    groups: list[GroupOut]


class Cell(NamedTuple):
    status: str
    flags: list[str]
    score: float | None
    evidence_count: int
    rule_version: int | None


class ObjectiveRef(NamedTuple):
    objective_id: str
    statement: str
    subject: str
    course: str
    unit: str
    sequence: int
    prerequisites: list[str]


@dataclass
class ClassView:
    class_id: str
    students: dict[str, str]  # student_id -> name, in id order
    objectives: list[ObjectiveRef]  # of the class's courses, in course order
    cells: dict[tuple[str, str], Cell]  # (student, objective) -> its rm_mastery row

    def status(self, student: str, oid: str) -> str:
        cell = self.cells.get((student, oid))
        return cell.status if cell is not None else "not_started"


def visible_class(conn: Connection, who: Principal, class_id: str) -> None:
    """403 for a role that reads no class; 404 for a class that does not exist,
    that a teacher does not teach or that is not in a leader's schools (never
    reveal that it exists)."""
    _may_read_class(who, class_id)
    q = select(classes.c.class_id).where(classes.c.class_id == class_id)
    if who.role == "leader":
        q = q.where(classes.c.school_id.in_(who.scoped("school")))
    if conn.execute(q).first() is None:
        raise NotFound(f"no class {class_id!r}")


def _may_read_class(who: Principal, class_id: str) -> None:
    """The checks that need no query (a leader's school is checked with the class)."""
    require_role(who, *CLASS_READERS)
    if who.role == "teacher" and f"class:{class_id}" not in who.scopes:
        raise NotFound(f"no class {class_id!r}")


e, st, m, o = enrolments, students, mastery_current, objectives
# The class and its students' names in one statement. The name is a scalar
# subquery so that it is looked up by primary key for each enrolled student:
# as a join, PostgreSQL preferred a scan of every student (5,000 at 1M events).
_ROSTER = (
    select(e.c.student_id, select(st.c.name).where(st.c.student_id == e.c.student_id).scalar_subquery())
    .select_from(classes.outerjoin(e, e.c.class_id == classes.c.class_id))
    .order_by(e.c.student_id)
)
# flags as their JSON text: a class has a few distinct lists among a thousand
# rows, so each is decoded once (`_decoded`) rather than once per row.
# With each row its objective's course, so the class's courses need no query
# of their own (an IN list of every touched objective cost more than the rows).
_CELLS = select(
    m.c.student_id,
    m.c.objective_id,
    m.c.status,
    cast(m.c.flags, String),
    m.c.score,
    m.c.evidence_count,
    m.c.rule_version,
    o.c.course,
).select_from(m.outerjoin(o, o.c.objective_id == m.c.objective_id))
_OBJECTIVES = select(
    o.c.objective_id, o.c.statement, o.c.subject, o.c.course, o.c.unit, o.c.sequence, o.c.prerequisites
).order_by(o.c.course, o.c.sequence, o.c.objective_id)


def load_class(conn: Connection, who: Principal, class_id: str, keys: StudentKeys) -> ClassView:
    """The class as the caller may see it (else 403 or 404, as `visible_class`),
    its students' names opened with their keys (`[erased]` after an erasure)."""
    _may_read_class(who, class_id)
    q = _ROSTER.where(classes.c.class_id == class_id)
    if who.role == "leader":
        q = q.where(classes.c.school_id.in_(who.scoped("school")))
    roster = conn.execute(q).all()
    if not roster:
        raise NotFound(f"no class {class_id!r}")
    # An enrolment without a registered student has no name and is not shown.
    sealed = {sid: name for sid, name in roster if sid is not None and name is not None}
    ids = list(sealed)
    found = keys.for_reading(ids)
    names = {sid: Opener(found.get(sid)).name(name) for sid, name in sealed.items()}
    cells: dict[tuple[str, str], Cell] = {}
    decoded: dict[str, list[str]] = {}
    # The class works in the courses its students have records in; the map
    # shows every objective of those courses, so untouched ones are visible too.
    courses: set[str] = set()
    for i in range(0, len(ids), _CHUNK):
        # all(): fetching row by row, as iterating does, took twice as long.
        rows = conn.execute(_CELLS.where(m.c.student_id.in_(ids[i : i + _CHUNK]))).all()
        for sid, oid, status, flags, score, count, version, course in rows:
            known = decoded.get(flags)
            if known is None:
                known = decoded[flags] = orjson.loads(flags)
            cells[(sid, oid)] = Cell(status, known, score, count, version)
            if course is not None:
                courses.add(course)
    objs: list[ObjectiveRef] = []
    if courses:
        objs = [
            ObjectiveRef(*r) for r in conn.execute(_OBJECTIVES.where(o.c.course.in_(sorted(courses)))).all()
        ]
    return ClassView(class_id, names, objs, cells)


def _ref(ob: ObjectiveRef) -> dict[str, Any]:
    """An ObjectiveRefOut: the same fields."""
    return ob._asdict()


# The answers are built as plain dicts in the shape of the response models and
# written by `json_response`: for a class of 25 students and 40 objectives,
# a thousand models validated and then validated again cost tens of ms.


@router.get("/classes/{class_id}/mastery-map", response_model=MasteryMapOut)
def mastery_map(request: Request, class_id: IdPath, read: ReadDep, keys: KeysDep) -> Response:
    view = load_class(read.conn, read.who, class_id, keys)
    names_students(request, view.students)  # the map names every student of the class
    out = []
    for sid, name in view.students.items():
        statuses: dict[str, Any] = {}
        mastered = 0
        for ob in view.objectives:
            cell = view.cells.get((sid, ob.objective_id))
            if cell is None:
                statuses[ob.objective_id] = {"status": "not_started", "flags": []}
                continue
            statuses[ob.objective_id] = {"status": cell.status, "flags": cell.flags}
            mastered += cell.status == "mastered"
        out.append({"student_id": sid, "name": name, "mastered": mastered, "statuses": statuses})
    body = {"class_id": class_id, "objectives": [_ref(ob) for ob in view.objectives], "students": out}
    return json_response(body, read.position)


@router.get("/classes/{class_id}/next", response_model=NextOut)
def next_objectives(request: Request, class_id: IdPath, read: ReadDep, keys: KeysDep) -> Response:
    """Per student, in course order: not yet mastered, every prerequisite mastered.
    A prerequisite the catalog does not know cannot be mastered, so it blocks."""
    view = load_class(read.conn, read.who, class_id, keys)
    names_students(request, view.students)  # as the map, every student of the class
    out = []
    for sid, name in view.students.items():
        ready = [
            ob.objective_id
            for ob in view.objectives
            if view.status(sid, ob.objective_id) != "mastered"
            and all(view.status(sid, p) == "mastered" for p in ob.prerequisites)
        ]
        out.append({"student_id": sid, "name": name, "objectives": ready})
    return json_response({"class_id": class_id, "students": out}, read.position)


def _member(view: ClassView, sid: str, oid: str, cell: Cell, levels: Levels) -> dict[str, Any]:
    """A GroupMemberOut."""
    return {
        "student_id": sid,
        "name": view.students[sid],
        "status": cell.status,
        "score": cell.score,
        "score_display": display(cell.score, levels, oid, cell.rule_version),
        "evidence_count": cell.evidence_count,
    }


@router.get("/classes/{class_id}/groups", response_model=GroupsOut)
def groups(request: Request, class_id: IdPath, read: ReadDep, keys: KeysDep) -> Response:
    """Per objective with anyone to re-teach: the students with counting
    evidence who have not mastered it, and the class-mates who have mastered it
    as peer tutors (not those whose latest benchmark contradicts that mastery)."""
    view = load_class(read.conn, read.who, class_id, keys)
    levels = rubric_levels(read.conn, (ob.objective_id for ob in view.objectives))
    out, named = [], set[str]()
    for ob in view.objectives:
        reteach, tutors = [], []
        for sid in view.students:
            cell = view.cells.get((sid, ob.objective_id))
            if cell is None:
                continue
            if cell.status != "mastered" and cell.evidence_count > 0:
                reteach.append(_member(view, sid, ob.objective_id, cell, levels))
            elif cell.status == "mastered" and "benchmark_disagrees" not in cell.flags:
                tutors.append(_member(view, sid, ob.objective_id, cell, levels))
        if reteach:
            group = {"objective_id": ob.objective_id, "statement": ob.statement}
            out.append({**group, "reteach": reteach, "peer_tutors": tutors})
            named.update(m["student_id"] for m in reteach + tutors)
    names_students(request, sorted(named))  # those the groups name, not the whole class
    return json_response({"class_id": class_id, "groups": out}, read.position)
