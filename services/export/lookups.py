"""What an export's rows are joined with: where each student stands in the
roster (school, grade, classes) and what each objective is part of (subject,
course, unit, its rule versions).

The roster comes from the read models (infra/readmodels.py), looked up a
batch of students at a time, so memory stays flat however large the
district; the export waits for them to reach its cut first
(services/export/api.py), so every student an exported event names is there.
Objectives come from the catalog (the event store, cached in process), as
the replays read them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from domain.rules.versions import RuleVersion
from infra.readmodels import classes, enrolments, schools, students
from services.catalog import Catalog

CHUNK = 1000  # ids per IN list: well under SQLite's and PostgreSQL's parameter limits
PAGE = 1000  # students per page of the mastery and roster kinds


# A student's school_id, grade, class_ids and class_course_ids: row columns, built once a student.
Placement = dict[str, Any]
# A student unknown to the roster (see above).
UNPLACED: Placement = {"school_id": None, "grade": None, "class_ids": [], "class_course_ids": []}


def chunks(ids: Iterable[str], size: int = CHUNK) -> Iterator[list[str]]:
    ordered = sorted(set(ids))
    for i in range(0, len(ordered), size):
        yield ordered[i : i + size]


class Roster:
    def __init__(self, read_models: Engine) -> None:
        self.engine = read_models

    def placements(self, student_ids: Iterable[str]) -> dict[str, Placement]:
        """Each student's school, grade and classes (sorted) as the roster stands,
        with each class's OneRoster course (None for a class given none)."""
        found: dict[str, tuple[str, str]] = {}
        classes_of: dict[str, list[tuple[str, str | None]]] = {}
        with self.engine.connect() as conn:
            for chunk in chunks(student_ids):
                q = select(students.c.student_id, students.c.school_id, students.c.grade).where(
                    students.c.student_id.in_(chunk)
                )
                found.update({sid: (school, grade) for sid, school, grade in conn.execute(q)})
                e, c = enrolments.c, classes.c
                q = (
                    select(e.student_id, e.class_id, c.course_id)
                    .outerjoin(classes, c.class_id == e.class_id)
                    .where(e.student_id.in_(chunk))
                    .order_by(e.class_id)
                )
                for sid, cid, course in conn.execute(q):
                    classes_of.setdefault(sid, []).append((cid, course))
        placed: dict[str, Placement] = {}
        for sid, (school, grade) in found.items():
            enrolled = classes_of.get(sid, [])
            placed[sid] = {
                "school_id": school,
                "grade": grade,
                "class_ids": [cid for cid, _ in enrolled],
                "class_course_ids": [course for _, course in enrolled],
            }
        return placed

    def school_exists(self, school_id: str) -> bool:
        with self.engine.connect() as conn:
            q = select(schools.c.school_id).where(schools.c.school_id == school_id)
            return conn.execute(q).first() is not None

    def school_students(self, school_ids: frozenset[str]) -> frozenset[str]:
        with self.engine.connect() as conn:
            q = select(students.c.student_id).where(students.c.school_id.in_(sorted(school_ids)))
            return frozenset(conn.execute(q).scalars())

    def student_pages(self, school_ids: frozenset[str] | None, page: int = PAGE) -> Iterator[list[str]]:
        """Every student (of `school_ids`, if given) by id, a page at a time (keyset:
        no page is read twice or skipped while rows are added)."""
        last = ""  # ids are never empty
        while True:
            q = select(students.c.student_id).where(students.c.student_id > last)
            if school_ids is not None:
                q = q.where(students.c.school_id.in_(sorted(school_ids)))
            with self.engine.connect() as conn:
                ids = list(conn.execute(q.order_by(students.c.student_id).limit(page)).scalars())
            if not ids:
                return
            yield ids
            last = ids[-1]


NO_CURRICULUM: dict[str, Any] = {"subject": None, "course": None, "unit": None}


@dataclass(frozen=True)
class _Objective:
    columns: dict[str, Any]  # subject, course, unit: row columns, built once an export
    versions: tuple[RuleVersion, ...]  # known at the export's start


class Curriculum:
    """The catalog's objectives as an export reads them: each looked up once
    an export, the first time a row names it, as known at the export's start.

    The mastery kind replays one student at a time; asking the catalog for
    each student's objectives cost a query for their stream heads per student
    (bench/RESULTS.md, "Exports"). An export is one cut, so one reading of an
    objective serves all its rows: every objective an exported event names
    existed before the cut (ingest checks it), and a change made to one while
    the export streams is not the export's to show.
    """

    def __init__(self, catalog: Catalog, known_at: datetime) -> None:
        self.catalog = catalog
        self.known_at = known_at
        self._seen: dict[str, _Objective | None] = {}  # None: not in the catalog (a catalog is small)

    def load(self, objective_ids: Iterable[str]) -> None:
        """Look up those of these objectives not met before (one query for all of them)."""
        new = {oid for oid in objective_ids if oid not in self._seen}
        if not new:
            return
        found = self.catalog.get_many(new)
        for oid in new:
            view = found.get(oid)
            self._seen[oid] = (
                None
                if view is None
                else _Objective(
                    {"subject": view.subject, "course": view.course, "unit": view.unit},
                    view.versions_known_at(self.known_at),
                )
            )

    def _entry(self, objective_id: str | None) -> _Objective | None:
        return self._seen.get(objective_id) if objective_id else None

    def columns(self, objective_id: str | None) -> dict[str, Any]:
        entry = self._entry(objective_id)
        return entry.columns if entry is not None else NO_CURRICULUM

    def versions(self, objective_id: str | None) -> tuple[RuleVersion, ...]:
        entry = self._entry(objective_id)
        return entry.versions if entry is not None else ()

    def versions_of(self, objective_ids: Iterable[str | None]) -> dict[str, tuple[RuleVersion, ...]]:
        """The rule versions of those of these objectives the catalog has (a
        replay gives the others no status)."""
        return {oid: e.versions for oid in objective_ids if oid and (e := self._entry(oid)) is not None}
