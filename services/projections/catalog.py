"""Read models of the catalog and roster: objectives, schools, classes, students, enrolments."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from domain.ids import objective_stream
from domain.learner import Learner
from domain.objective import Objective
from domain.profile import StudentProfile
from domain.roster import School, SchoolClass
from infra.bulk import insert_ignore, upsert
from infra.readmodels import CATALOG, CatalogTables
from infra.readstore import fresh_metadata
from services.projections.base import Notified

LoadObjective = Callable[[str], Any]  # -> services.catalog.ObjectiveView | None


class CatalogProjection:
    """Rows are whole-state snapshots keyed by id, so replays are idempotent.
    Objective rows are written from the aggregate's current state."""

    topics = frozenset(
        get_topic(c)
        for c in (
            Objective.Defined,
            Objective.DetailsChanged,
            Objective.RuleVersionIssued,
            School.Opened,
            School.Renamed,
            SchoolClass.Formed,
            SchoolClass.DetailsChanged,
            SchoolClass.TeachersChanged,
            SchoolClass.StudentsEnrolled,
            SchoolClass.StudentsUnenrolled,
            SchoolClass.CourseAssigned,
            StudentProfile.Registered,
            StudentProfile.DetailsChanged,
            # Stores before schema version 2 opened the learning stream with the profile.
            Learner.Registered,
            Learner.DetailsChanged,
        )
    )

    def __init__(self, load_objective: LoadObjective, suffix: str = "") -> None:
        self.load_objective = load_objective
        self.name = "catalog" + suffix
        self.t = CatalogTables.make(fresh_metadata(), suffix) if suffix else CATALOG
        self.tables = self.t.all()

    def shadow(self, suffix: str) -> CatalogProjection:
        return CatalogProjection(self.load_objective, suffix)

    def apply(self, conn: Connection, events: Sequence[Notified]) -> None:
        objective_ids: set[str] = set()
        registered: list[dict[str, Any]] = []
        for _pos, ev in events:
            if isinstance(ev, (Objective.Defined, Objective.DetailsChanged, Objective.RuleVersionIssued)):
                objective_ids.add(ev.objective_id)
            elif isinstance(ev, (StudentProfile.Registered, Learner.Registered)):
                # Rostering arrives in bulk; one statement for a run of new students.
                registered.append(
                    {
                        "student_id": ev.student_id,
                        "stream_id": str(ev.originator_id),
                        # Sealed (infra/sealing.py); in clear only from a version-1 store.
                        "name": ev.sealed_name if isinstance(ev, StudentProfile.Registered) else ev.name,
                        "grade": ev.grade,
                        "school_id": ev.school_id,
                    }
                )
            else:
                upsert(conn, self.t.students, registered, ["student_id"])
                registered = []
                self._apply_roster(conn, ev)
        upsert(conn, self.t.students, registered, ["student_id"])
        rows = [self._objective_row(v) for oid in sorted(objective_ids) if (v := self.load_objective(oid))]
        upsert(conn, self.t.objectives, rows, ["objective_id"])

    def load(self, conn: Connection, events: Sequence[Notified]) -> None:
        # Rows are whole-state snapshots per stream, so stream order is as good as log order.
        self.apply(conn, events)

    @staticmethod
    def _objective_row(view: Any) -> dict[str, Any]:
        return {
            "objective_id": view.objective_id,
            "stream_id": str(objective_stream(view.objective_id)),
            "statement": view.statement,
            "subject": view.subject,
            "course": view.course,
            "unit": view.unit,
            "sequence": view.sequence,
            "prerequisites": list(view.prerequisites),
            "rule_versions": [
                {
                    "version": v.version,
                    "rule": v.rule.model_dump(mode="json"),
                    "effective_from": v.effective_from.isoformat(),
                    "recorded_at": v.recorded_at.isoformat(),
                }
                for v in view.versions
            ],
            "stream_version": view.stream_version,
        }

    def _apply_roster(self, conn: Connection, ev: object) -> None:
        t = self.t
        row: dict[str, Any]
        if isinstance(ev, School.Opened):
            row = {"school_id": ev.school_id, "stream_id": str(ev.originator_id), "name": ev.name}
            upsert(conn, t.schools, [row], ["school_id"])
        elif isinstance(ev, School.Renamed):
            conn.execute(
                t.schools.update().where(t.schools.c.stream_id == str(ev.originator_id)).values(name=ev.name)
            )
        elif isinstance(ev, StudentProfile.DetailsChanged):
            changed = {"name": ev.sealed_name, "grade": ev.grade, "school_id": ev.school_id}
            conn.execute(
                t.students.update()
                .where(t.students.c.stream_id == str(ev.originator_id))
                .values({k: v for k, v in changed.items() if v is not None})
            )
        elif isinstance(ev, Learner.DetailsChanged):
            conn.execute(
                t.students.update()
                .where(t.students.c.stream_id == str(ev.originator_id))
                .values(name=ev.name, grade=ev.grade, school_id=ev.school_id)
            )
        elif isinstance(ev, SchoolClass.Formed):
            row = {
                "class_id": ev.class_id,
                "stream_id": str(ev.originator_id),
                "name": ev.name,
                "school_id": ev.school_id,
                "teacher_ids": ev.teacher_ids,
            }
            upsert(conn, t.classes, [row], ["class_id"])
            insert_ignore(
                conn, t.enrolments, [{"class_id": ev.class_id, "student_id": s} for s in ev.student_ids]
            )
        elif isinstance(ev, SchoolClass.Event):
            self._apply_class_change(conn, ev)

    def _apply_class_change(self, conn: Connection, ev: SchoolClass.Event) -> None:
        t = self.t
        cid = conn.execute(
            select(t.classes.c.class_id).where(t.classes.c.stream_id == str(ev.originator_id))
        ).scalar()
        if cid is None:
            raise LookupError(f"class stream {ev.originator_id} changed before it was formed")
        where = t.classes.c.class_id == cid
        if isinstance(ev, SchoolClass.DetailsChanged):
            conn.execute(t.classes.update().where(where).values(name=ev.name, school_id=ev.school_id))
        elif isinstance(ev, SchoolClass.CourseAssigned):
            course = {"course_id": ev.course_id, "course_title": ev.title, "course_code": ev.code}
            conn.execute(t.classes.update().where(where).values(course))
        elif isinstance(ev, SchoolClass.TeachersChanged):
            conn.execute(t.classes.update().where(where).values(teacher_ids=ev.teacher_ids))
        elif isinstance(ev, SchoolClass.StudentsEnrolled):
            insert_ignore(conn, t.enrolments, [{"class_id": cid, "student_id": s} for s in ev.student_ids])
        elif isinstance(ev, SchoolClass.StudentsUnenrolled):
            conn.execute(
                delete(t.enrolments).where(
                    t.enrolments.c.class_id == cid, t.enrolments.c.student_id.in_(ev.student_ids)
                )
            )
