"""Read models of the catalog and roster: objectives, schools, classes, students, enrolments."""

from __future__ import annotations

from collections.abc import Sequence

from eventsourcing.utils import get_topic
from sqlalchemy import JSON, Column, Integer, String, Table, delete, select
from sqlalchemy.engine import Connection

from domain.ids import objective_stream
from domain.learner import Learner
from domain.objective import Objective
from domain.roster import School, SchoolClass
from infra.readstore import insert_ignore, metadata, upsert
from services.projections.base import Notified

objectives = Table(
    "rm_objectives",
    metadata,
    Column("objective_id", String, primary_key=True),
    Column("stream_id", String, nullable=False, unique=True),
    Column("statement", String, nullable=False),
    Column("subject", String, nullable=False),
    Column("course", String, nullable=False),
    Column("unit", String, nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("prerequisites", JSON, nullable=False),
    Column("rule_versions", JSON, nullable=False),
    Column("stream_version", Integer, nullable=False),
)
schools = Table(
    "rm_schools",
    metadata,
    Column("school_id", String, primary_key=True),
    Column("stream_id", String, nullable=False, unique=True),
    Column("name", String, nullable=False),
)
students = Table(
    "rm_students",
    metadata,
    Column("student_id", String, primary_key=True),
    Column("stream_id", String, nullable=False, unique=True),
    Column("name", String, nullable=False),
    Column("grade", String, nullable=False),
    Column("school_id", String, nullable=False, index=True),
)
classes = Table(
    "rm_classes",
    metadata,
    Column("class_id", String, primary_key=True),
    Column("stream_id", String, nullable=False, unique=True),
    Column("name", String, nullable=False),
    Column("school_id", String, nullable=False, index=True),
    Column("teacher_ids", JSON, nullable=False),
)
enrolments = Table(
    "rm_enrolments",
    metadata,
    Column("class_id", String, primary_key=True),
    Column("student_id", String, primary_key=True, index=True),
)


class CatalogProjection:
    """Rows are whole-state snapshots keyed by id, so replays are idempotent.
    Objective rows are rebuilt from the aggregate state the events produce."""

    name = "catalog"
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
            Learner.Registered,
            Learner.DetailsChanged,
        )
    )

    def __init__(self, load_objective: object) -> None:
        # Callable[[str], ObjectiveView | None]; kept loose to avoid a cycle with services.catalog.
        self.load_objective = load_objective

    def apply(self, conn: Connection, events: Sequence[Notified]) -> None:
        objective_ids: set[str] = set()
        for _pos, ev in events:
            if isinstance(ev, (Objective.Defined, Objective.DetailsChanged, Objective.RuleVersionIssued)):
                objective_ids.add(ev.objective_id)
            else:
                self._apply_roster(conn, ev)
        for oid in objective_ids:
            view = self.load_objective(oid)  # type: ignore[operator]
            if view is None:
                continue
            upsert(
                conn,
                objectives,
                [
                    {
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
                ],
                ["objective_id"],
            )

    def _apply_roster(self, conn: Connection, ev: object) -> None:
        if isinstance(ev, School.Opened):
            upsert(
                conn,
                schools,
                [{"school_id": ev.school_id, "stream_id": str(ev.originator_id), "name": ev.name}],
                ["school_id"],
            )
        elif isinstance(ev, School.Renamed):
            conn.execute(
                schools.update()
                .where(schools.c.school_id == self._school_id(conn, ev.originator_id))
                .values(name=ev.name)
            )
        elif isinstance(ev, Learner.Registered):
            upsert(
                conn,
                students,
                [
                    {
                        "student_id": ev.student_id,
                        "stream_id": str(ev.originator_id),
                        "name": ev.name,
                        "grade": ev.grade,
                        "school_id": ev.school_id,
                    }
                ],
                ["student_id"],
            )
        elif isinstance(ev, Learner.DetailsChanged):
            sid = self._student_id(conn, ev.originator_id)
            conn.execute(
                students.update()
                .where(students.c.student_id == sid)
                .values(name=ev.name, grade=ev.grade, school_id=ev.school_id)
            )
        elif isinstance(ev, SchoolClass.Formed):
            upsert(
                conn,
                classes,
                [
                    {
                        "class_id": ev.class_id,
                        "stream_id": str(ev.originator_id),
                        "name": ev.name,
                        "school_id": ev.school_id,
                        "teacher_ids": ev.teacher_ids,
                    }
                ],
                ["class_id"],
            )
            insert_ignore(
                conn, enrolments, [{"class_id": ev.class_id, "student_id": s} for s in ev.student_ids]
            )
        else:
            self._apply_class_change(conn, ev)

    def _apply_class_change(self, conn: Connection, ev: object) -> None:
        cid = self._class_id(conn, ev.originator_id)  # type: ignore[attr-defined]
        if isinstance(ev, SchoolClass.DetailsChanged):
            conn.execute(
                classes.update().where(classes.c.class_id == cid).values(name=ev.name, school_id=ev.school_id)
            )
        elif isinstance(ev, SchoolClass.TeachersChanged):
            conn.execute(classes.update().where(classes.c.class_id == cid).values(teacher_ids=ev.teacher_ids))
        elif isinstance(ev, SchoolClass.StudentsEnrolled):
            insert_ignore(conn, enrolments, [{"class_id": cid, "student_id": s} for s in ev.student_ids])
        elif isinstance(ev, SchoolClass.StudentsUnenrolled):
            conn.execute(
                delete(enrolments).where(
                    enrolments.c.class_id == cid, enrolments.c.student_id.in_(ev.student_ids)
                )
            )

    @staticmethod
    def _school_id(conn: Connection, stream: object) -> str:
        return _id_of(conn, schools, "school_id", stream)

    @staticmethod
    def _student_id(conn: Connection, stream: object) -> str:
        return _id_of(conn, students, "student_id", stream)

    @staticmethod
    def _class_id(conn: Connection, stream: object) -> str:
        return _id_of(conn, classes, "class_id", stream)


def _id_of(conn: Connection, table: Table, key: str, stream: object) -> str:
    ident = conn.execute(select(table.c[key]).where(table.c.stream_id == str(stream))).scalar()
    if ident is None:
        raise LookupError(f"stream {stream} changed before it was created")
    return str(ident)
