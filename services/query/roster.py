"""The roster, read back (CONTRACT.md §2 "Roster"): schools, classes with their
members, and a student's profile, each scoped by role (docs/security.md).

Out of scope is answered as what does not exist: a 404 for one thing, left
out of a list. Names are sealed in the read models and opened here with the
students' keys (`[erased]` after an erasure).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, select

from infra.keys import Opener
from infra.readmodels import classes, enrolments, schools, students
from infra.tokens import Principal
from services.access_records import names_students
from services.errors import NotFound
from services.http import KeysDep, require_role
from services.inputs import Id, IdPath
from services.query.access import VisibleStudent
from services.query.classes import CLASS_READERS
from services.query.pages import DEFAULT_LIMIT, After, Limit, cut
from services.reads import ReadDep, json_response

router = APIRouter(prefix="/v1", tags=["roster"])
# Every role reads schools: a school names no student. What each may see of them is `_schools_seen`.
SCHOOL_READERS = ("admin", "auditor", "analyst", "ingest", "leader", "teacher", "student", "guardian")


class SchoolOut(BaseModel):
    school_id: str
    name: str


class SchoolsOut(BaseModel):
    schools: list[SchoolOut]
    next: str | None  # the `after` of the next page; null on the last


class CourseOut(BaseModel):
    """A class's course as the district's roster names it (OneRoster courses.csv)."""

    course_id: str  # the course's sourcedId
    title: str
    code: str  # its courseCode ("" when the file gives none)


class ClassSummaryOut(BaseModel):
    class_id: str
    name: str
    school_id: str
    teacher_ids: list[str]
    course: CourseOut | None  # null for a class whose roster gave no course (PUT /v1/classes)


class ClassesOut(BaseModel):
    classes: list[ClassSummaryOut]
    next: str | None


class MemberOut(BaseModel):
    student_id: str
    name: str


class ClassOut(ClassSummaryOut):
    students: list[MemberOut]


class ClassRefOut(BaseModel):
    class_id: str
    name: str


class ProfileOut(BaseModel):
    student_id: str
    name: str
    grade: str
    school_id: str
    classes: list[ClassRefOut]


def _schools_seen(who: Principal) -> ColumnElement[bool] | None:
    """Which schools the caller sees (None: all). A teacher the schools of its
    classes, a leader its own, a student or guardian the schools its students
    are registered at."""
    require_role(who, *SCHOOL_READERS)
    s = schools.c.school_id
    if who.role == "leader":
        return s.in_(who.scoped("school"))
    if who.role == "teacher":
        return s.in_(select(classes.c.school_id).where(classes.c.class_id.in_(who.scoped("class"))))
    if who.role in ("student", "guardian"):
        return s.in_(select(students.c.school_id).where(students.c.student_id.in_(who.scoped("student"))))
    return None


def _classes_seen(who: Principal) -> ColumnElement[bool] | None:
    """Which classes the caller sees (None: all), as the class maps do: a
    teacher its classes, a leader those of its schools."""
    require_role(who, *CLASS_READERS)
    if who.role == "teacher":
        return classes.c.class_id.in_(who.scoped("class"))
    if who.role == "leader":
        return classes.c.school_id.in_(who.scoped("school"))
    return None


def _seen(query: Select[Any], scope: ColumnElement[bool] | None) -> Select[Any]:
    return query if scope is None else query.where(scope)


@router.get("/schools", response_model=SchoolsOut)
def list_schools(read: ReadDep, after: After = None, limit: Limit = DEFAULT_LIMIT) -> Response:
    """The schools the caller may see, by id."""
    q = _seen(select(schools.c.school_id, schools.c.name), _schools_seen(read.who))
    if after is not None:
        q = q.where(schools.c.school_id > after)
    rows = read.conn.execute(q.order_by(schools.c.school_id).limit(limit + 1)).all()
    page, nxt = cut(rows, limit, lambda r: str(r.school_id))
    body = {"schools": [{"school_id": sid, "name": name} for sid, name in page], "next": nxt}
    return json_response(body, read.position)


@router.get("/schools/{school_id}", response_model=SchoolOut)
def get_school(school_id: IdPath, read: ReadDep) -> Response:
    q = _seen(select(schools.c.name).where(schools.c.school_id == school_id), _schools_seen(read.who))
    name = read.conn.execute(q).scalar()
    if name is None:
        raise NotFound(f"no school {school_id!r}")
    return json_response({"school_id": school_id, "name": name}, read.position)


_CLASS = select(
    classes.c.class_id,
    classes.c.name,
    classes.c.school_id,
    classes.c.teacher_ids,
    classes.c.course_id,
    classes.c.course_title,
    classes.c.course_code,
)


def _class_summary(row: Any) -> dict[str, Any]:
    """A ClassSummaryOut."""
    class_id, name, school_id, teacher_ids, course_id, title, code = row
    course = None if course_id is None else {"course_id": course_id, "title": title, "code": code}
    return {
        "class_id": class_id,
        "name": name,
        "school_id": school_id,
        "teacher_ids": list(teacher_ids),
        "course": course,
    }


@router.get("/classes", response_model=ClassesOut)
def list_classes(
    read: ReadDep,
    school_id: Annotated[Id | None, Query(description="only the classes of this school")] = None,
    after: After = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Response:
    """The classes the caller may see, by id; a school out of its scope has none."""
    q = _seen(_CLASS, _classes_seen(read.who))
    if school_id is not None:
        q = q.where(classes.c.school_id == school_id)
    if after is not None:
        q = q.where(classes.c.class_id > after)
    rows = read.conn.execute(q.order_by(classes.c.class_id).limit(limit + 1)).all()
    page, nxt = cut(rows, limit, lambda r: str(r.class_id))
    return json_response({"classes": [_class_summary(r) for r in page], "next": nxt}, read.position)


@router.get("/classes/{class_id}", response_model=ClassOut)
def get_class(class_id: IdPath, request: Request, read: ReadDep, keys: KeysDep) -> Response:
    """The class with its teachers and its students, by id (at most 1,000,
    as a class holds: no pages)."""
    one = _CLASS.where(classes.c.class_id == class_id)
    row = read.conn.execute(_seen(one, _classes_seen(read.who))).first()
    if row is None:
        raise NotFound(f"no class {class_id!r}")
    e, st = enrolments, students
    # An enrolment whose student the read models do not hold yet is not
    # shown, as in the class map (services/query/classes.py).
    members = read.conn.execute(
        select(e.c.student_id, st.c.name)
        .join(st, st.c.student_id == e.c.student_id)
        .where(e.c.class_id == class_id)
        .order_by(e.c.student_id)
    ).all()
    names_students(request, [sid for sid, _ in members])  # it names every student of the class
    found = keys.for_reading(sid for sid, _ in members)
    body = _class_summary(row)
    body["students"] = [
        {"student_id": sid, "name": Opener(found.get(sid)).name(name)} for sid, name in members
    ]
    return json_response(body, read.position)


@router.get("/students/{student_id}", response_model=ProfileOut)
def get_profile(student_id: VisibleStudent, read: ReadDep, keys: KeysDep) -> Response:
    """The student's profile: name, grade, school, and the classes the caller
    may see among the student's (a teacher its own, a leader its schools')."""
    row = read.conn.execute(
        select(students.c.name, students.c.grade, students.c.school_id).where(
            students.c.student_id == student_id
        )
    ).first()
    if row is None:  # in the log, not yet in the read models: ask with min_position
        raise NotFound(f"no student {student_id!r}")
    sealed, grade, school_id = row
    scope = _classes_seen(read.who) if read.who.role in CLASS_READERS else None
    q = _seen(
        select(classes.c.class_id, classes.c.name)
        .join(enrolments, enrolments.c.class_id == classes.c.class_id)
        .where(enrolments.c.student_id == student_id),
        scope,
    )
    rows = read.conn.execute(q.order_by(classes.c.class_id)).all()
    body = {
        "student_id": student_id,
        "name": Opener(keys.for_reading([student_id]).get(student_id)).name(sealed),
        "grade": grade,
        "school_id": school_id,
        "classes": [{"class_id": cid, "name": name} for cid, name in rows],
    }
    return json_response(body, read.position)
