"""From a OneRoster bundle and the stored roster to the roster wanted: schools,
students, classes with their members, and what is removed; with every
problem between files (a reference to nothing, a student with no school).

The mapping (docs/imports.md): schools are orgs of type school; a user is a
student or a teacher by its roles.csv rows (OneRoster 1.2 moved `role` and the
user's orgs there from users.csv), else by its enrolments; a student's school
is its primary student role's org, else users.csv primaryOrgSourcedId, else
the school of its enrolments; its grade the first of `grades`. A bulk file is
the whole of its kind: what the store holds and the file does not is removed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from domain.roster import Course
from services.imports.oneroster_files import Bundle, Problem, Table
from services.imports.oneroster_refs import check_references
from services.imports.oneroster_spec import split_list
from services.imports.roster_state import StoredRoster

MAX_CLASS_STUDENTS = 1_000  # as PUT /v1/classes (services/inputs.py)
MAX_TEACHERS = 100
MAX_NAME = 200


@dataclass(frozen=True)
class StudentWant:
    name: str
    grade: str
    school_id: str


@dataclass(frozen=True)
class ClassWant:
    name: str
    school_id: str
    course: Course | None  # None: the stored class's course stays


@dataclass
class Plan:
    schools: dict[str, str] = field(default_factory=dict)  # id -> name
    students: dict[str, StudentWant] = field(default_factory=dict)
    classes: dict[str, ClassWant] = field(default_factory=dict)
    removed_users: set[str] = field(default_factory=set)
    removed_classes: set[str] = field(default_factory=set)
    members: dict[str, tuple[list[str], list[str]]] = field(
        default_factory=dict
    )  # class -> teachers, students
    ignored_users: int = 0  # users neither students nor teachers (parents, administrators...)


def grade_of(grades: str) -> str:
    """The first CEDS grade; a numeric one without its leading zero ("07" -> "7")."""
    first = (split_list(grades) or [""])[0]
    if first.isdigit():
        return str(int(first))
    return first


class Rows:
    """A file's rows by sourcedId: the active ones and the ids to be deleted."""

    def __init__(self, table: Table | None) -> None:
        self.table = table
        self.mode = table.mode if table else "absent"
        self.active: dict[str, tuple[list[str], int]] = {}
        self.deleted: set[str] = set()
        self.index = table.index if table else {}
        if table is None:
            return
        key, status = table.index["sourcedId"], table.index.get("status")
        for row, line in zip(table.rows, table.lines, strict=True):
            if status is not None and row[status] == "tobedeleted":
                self.deleted.add(row[key])
            else:
                self.active[row[key]] = (row, line)

    def get(self, sid: str, column: str) -> str:
        i = self.index.get(column)
        return "" if i is None else self.active[sid][0][i]

    def line(self, sid: str) -> int:
        return self.active[sid][1]


class Planner:
    def __init__(self, bundle: Bundle, stored: StoredRoster) -> None:
        self.stored = stored
        self.problems: list[Problem] = []
        t = bundle.tables.get
        self.orgs, self.sessions, self.courses = (
            Rows(t("orgs")),
            Rows(t("academicSessions")),
            Rows(t("courses")),
        )
        self.classes, self.users, self.roles = Rows(t("classes")), Rows(t("users")), Rows(t("roles"))
        self.enrolments = t("enrollments")
        # The schools: orgs of type school in the file, and the stored ones it does not list otherwise.
        self.schools = {o for o in self.orgs.active if self.orgs.get(o, "type") == "school"}
        listed = self.orgs.active.keys() | self.orgs.deleted
        self.schools |= {s for s in stored.schools if s not in listed}
        self.roles_of: dict[str, list[tuple[str, str, str]]] = defaultdict(
            list
        )  # user -> roleType, role, org
        for sid in self.roles.active:
            r = self.roles
            self.roles_of[r.get(sid, "userSourcedId")].append(
                (r.get(sid, "roleType"), r.get(sid, "role"), r.get(sid, "orgSourcedId"))
            )
        self.enrolled: dict[str, list[tuple[str, str, str, int]]] = defaultdict(
            list
        )  # user -> class, role, school
        self.unenrolled: list[tuple[str, str]] = []  # class, user
        self.stored_teachers = stored.teachers()
        if (e := self.enrolments) is not None:
            c, u, rl, sch = (
                e.index[k] for k in ("classSourcedId", "userSourcedId", "role", "schoolSourcedId")
            )
            status = e.index.get("status")
            for row, line in zip(e.rows, e.lines, strict=True):
                if status is not None and row[status] == "tobedeleted":
                    self.unenrolled.append((row[c], row[u]))
                else:
                    self.enrolled[row[u]].append((row[c], row[rl], row[sch], line))

    def problem(self, rows: Rows | Table | None, line: int | None, column: str | None, why: str) -> None:
        table = rows.table if isinstance(rows, Rows) else rows
        self.problems.append(Problem(table.file if table else "", line, column, why))

    # --- what the ids name

    def is_school(self, oid: str) -> bool:
        return oid in self.schools

    def knows(self, rows: Rows, sid: str) -> bool:
        """A reference to a kind the store does not keep (districts, sessions,
        courses): in the file, or, unless the file is the whole of its kind, elsewhere."""
        return sid in rows.active or (rows.mode != "bulk" and sid not in rows.deleted)

    def kind(self, uid: str) -> str:
        roles = {role for _, role, _ in self.roles_of.get(uid, ())}
        if not roles:  # no roles.csv row: what the user is enrolled as, or is already
            roles = {role for _, role, _, _ in self.enrolled.get(uid, ())}
            roles |= {"student"} if self.stored.is_student(uid) else set()
            roles |= {"teacher"} if uid in self.stored_teachers else set()
        return "student" if "student" in roles else "teacher" if "teacher" in roles else "other"

    # --- the plan

    def plan(self) -> Plan:
        out = Plan()
        check_references(self)
        for oid in self.orgs.active:
            if self.orgs.get(oid, "type") == "school":
                out.schools[oid] = self.orgs.get(oid, "name")
        out.removed_users = set(self.users.deleted)
        if self.users.mode == "bulk":
            out.removed_users |= (self.stored.student_ids | self.stored_teachers) - set(self.users.active)
        for uid in self.users.active:
            kind = self.kind(uid)
            if kind == "student":
                if (want := self._student(uid)) is not None:
                    out.students[uid] = want
            elif kind == "other":
                out.ignored_users += 1
        out.removed_classes = set(self.classes.deleted)
        if self.classes.mode == "bulk":
            out.removed_classes |= set(self.stored.classes) - set(self.classes.active)
        for cid in self.classes.active:
            out.classes[cid] = self._class(cid)
        self._members(out)
        return out

    def _student(self, uid: str) -> StudentWant | None:
        u, line = self.users, self.users.line(uid)
        name = f"{u.get(uid, 'givenName')} {u.get(uid, 'familyName')}".strip()
        if len(name) > MAX_NAME:
            self.problem(u, line, "givenName", f"the name is {len(name)} characters (at most {MAX_NAME})")
        profile = self.stored.profiles.get(uid)
        grade = grade_of(u.get(uid, "grades")) or (profile.grade if profile else "")
        if not grade:
            self.problem(u, line, "grades", "blank, but a student needs a grade in this store")
        roles = sorted(self.roles_of.get(uid, ()), key=lambda r: r[0] != "primary")
        candidates = [org for _, role, org in roles if role == "student"]
        candidates.append(u.get(uid, "primaryOrgSourcedId"))
        candidates += [
            school for _, role, school, _ in sorted(self.enrolled.get(uid, ())) if role == "student"
        ]
        school = next((c for c in candidates if c and self.is_school(c)), None)
        school = school or (profile.school_id if profile else None)
        if school is None:
            self.problem(u, line, "sourcedId", f"student {uid!r} has no school (a student role's org, "
                         "primaryOrgSourcedId or an enrolment's school)")  # fmt: skip
            return None
        return StudentWant(name, grade, school) if grade else None

    def _class(self, cid: str) -> ClassWant:
        c, line = self.classes, self.classes.line(cid)
        course_id = c.get(cid, "courseSourcedId")
        course = None
        if course_id in self.courses.active:
            k = self.courses
            course = Course(course_id, k.get(course_id, "title"), k.get(course_id, "courseCode"))
        else:
            stored = self.stored.classes.get(cid)
            if not (stored and stored.course and stored.course.course_id == course_id):
                self.problem(c, line, "courseSourcedId", f"course {course_id!r} is not in courses.csv")
        return ClassWant(c.get(cid, "title"), c.get(cid, "schoolSourcedId"), course)

    def _members(self, out: Plan) -> None:
        bulk = self.enrolments is not None and self.enrolments.mode == "bulk"
        wanted: dict[str, dict[str, str]] = defaultdict(dict)  # class -> user -> role
        for uid, rows in self.enrolled.items():
            for cid, role, _, _ in rows:
                if role in ("student", "teacher"):
                    wanted[cid][uid] = role
        gone = defaultdict(set)
        for cid, uid in self.unenrolled:
            gone[cid].add(uid)
        for cid in set(self.stored.classes) | set(self.classes.active):
            stored = self.stored.classes.get(cid)
            old_t, old_s = (stored.teacher_ids, stored.student_ids) if stored else ([], [])
            if cid in out.removed_classes:
                out.members[cid] = ([], [])
                continue
            if bulk:  # the file is every enrolment there is
                old_t, old_s = [], []
            new = wanted.get(cid, {})
            teachers = _merge(
                [t for t in old_t if t not in gone[cid]], [u for u, r in new.items() if r == "teacher"]
            )
            students = _merge(
                [u for u in old_s if u not in gone[cid]], [u for u, r in new.items() if r == "student"]
            )
            drop = out.removed_users
            out.members[cid] = (
                [t for t in teachers if t not in drop],
                [s for s in students if s not in drop],
            )
            if len(students) > MAX_CLASS_STUDENTS or len(teachers) > MAX_TEACHERS:
                self.problem(self.enrolments, None, "classSourcedId", f"class {cid!r} would have "
                             f"{len(students)} students and {len(teachers)} teachers (at most "
                             f"{MAX_CLASS_STUDENTS} and {MAX_TEACHERS})")  # fmt: skip


def _merge(kept: list[str], added: list[str]) -> list[str]:
    """The kept ones in their stored order, then the new ones, sorted."""
    have = set(kept)
    return kept + sorted(u for u in set(added) if u not in have)
