"""Read models of the catalog and roster: objectives, schools, classes, students, enrolments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import Table, Update, delete, or_, select
from sqlalchemy.engine import Connection

from domain.learner import Learner
from domain.objective import Objective
from domain.profile import StudentProfile
from domain.roster import School, SchoolClass
from domain.rules.model import Rule
from infra.bulk import insert_ignore, upsert
from infra.readmodels import CATALOG, CatalogTables
from infra.readstore import fresh_metadata
from services.projections.base import Notified


def rule_version_entry(
    version: int, rule: dict[str, Any], effective_from: datetime, recorded_at: datetime
) -> dict[str, Any]:
    """A rule version as the catalog row lists it (the rule as validated, defaults filled in)."""
    return {
        "version": version,
        "rule": Rule.model_validate(rule).model_dump(mode="json"),
        "effective_from": effective_from.isoformat(),
        "recorded_at": recorded_at.isoformat(),
    }


class CatalogProjection:
    """A fold of each catalog and roster stream's events, in stream order.
    Every row keeps the version of its stream it reflects (`stream_version`):
    an event at or below it (redelivered, replayed) changes nothing."""

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

    first: frozenset[str] = frozenset()

    def __init__(self, suffix: str = "") -> None:
        self.name = "catalog" + suffix
        self.t = CatalogTables.make(fresh_metadata(), suffix) if suffix else CATALOG
        self.tables = self.t.all()

    def shadow(self, suffix: str) -> CatalogProjection:
        return CatalogProjection(suffix)

    def apply(self, conn: Connection, events: Sequence[Notified]) -> None:
        objective_events = [ev for _, ev in events if isinstance(ev, Objective.Event)]
        self._apply_objectives(conn, objective_events)
        registered: dict[str, dict[str, Any]] = {}
        for _pos, ev in events:
            if isinstance(ev, Objective.Event):
                continue
            if isinstance(ev, (StudentProfile.Registered, Learner.Registered)):
                # Rostering arrives in bulk; one statement for a run of new students.
                registered[str(ev.originator_id)] = {
                    "student_id": ev.student_id,
                    "stream_id": str(ev.originator_id),
                    "stream_version": ev.originator_version,
                    # Sealed (infra/sealing.py); in clear only from a version-1 store.
                    "name": ev.sealed_name if isinstance(ev, StudentProfile.Registered) else ev.name,
                    "grade": ev.grade,
                    "school_id": ev.school_id,
                }
            else:
                self._register(conn, registered)
                registered = {}
                self._apply_roster(conn, ev)
        self._register(conn, registered)

    def load(self, conn: Connection, events: Sequence[Notified]) -> None:
        # A fold per stream: stream order is as good as log order.
        self.apply(conn, events)

    def _register(self, conn: Connection, rows: dict[str, dict[str, Any]]) -> None:
        """New students' rows; a stream already registered has its row (a redelivery)."""
        if not rows:
            return
        t = self.t.students
        seen = set(conn.execute(select(t.c.stream_id).where(t.c.stream_id.in_(list(rows)))).scalars())
        upsert(conn, t, [r for stream, r in rows.items() if stream not in seen], ["student_id"])

    def _apply_objectives(self, conn: Connection, events: Sequence[Objective.Event]) -> None:
        """Fold each objective stream's events into its row, read once per batch."""
        if not events:
            return
        t = self.t.objectives
        streams = sorted({str(ev.originator_id) for ev in events})
        rows = {
            r["stream_id"]: dict(r)
            for r in conn.execute(select(t).where(t.c.stream_id.in_(streams))).mappings()
        }
        changed: dict[str, dict[str, Any]] = {}
        for ev in events:
            stream = str(ev.originator_id)
            row = rows.get(stream)
            if row is not None and ev.originator_version <= row["stream_version"]:
                continue
            if isinstance(ev, Objective.Defined):
                row = {"objective_id": ev.objective_id, "stream_id": stream, "rule_versions": []}
                versions = [rule_version_entry(1, ev.rule, ev.effective_from, ev.timestamp)]
                row["rule_versions"] = versions
            if row is None:
                raise LookupError(f"objective stream {stream} changed before it was defined")
            if isinstance(ev, (Objective.Defined, Objective.DetailsChanged)):
                row.update(
                    statement=ev.statement,
                    subject=ev.subject,
                    course=ev.course,
                    unit=ev.unit,
                    sequence=ev.sequence,
                    prerequisites=list(ev.prerequisites),
                )
            elif isinstance(ev, Objective.RuleVersionIssued):
                entry = rule_version_entry(ev.version_no, ev.rule, ev.effective_from, ev.timestamp)
                row["rule_versions"] = [*row["rule_versions"], entry]
            row["stream_version"] = ev.originator_version
            rows[stream] = changed[stream] = row
        upsert(conn, t, list(changed.values()), ["objective_id"])

    def _apply_roster(self, conn: Connection, ev: Any) -> None:
        t = self.t
        stream, version = str(ev.originator_id), int(ev.originator_version)
        if isinstance(ev, School.Opened):
            if not _has_stream(conn, t.schools, stream):
                row = {
                    "school_id": ev.school_id,
                    "stream_id": stream,
                    "stream_version": version,
                    "name": ev.name,
                }
                upsert(conn, t.schools, [row], ["school_id"])
        elif isinstance(ev, School.Renamed):
            conn.execute(_newer(t.schools, stream, version).values(name=ev.name))
        elif isinstance(ev, StudentProfile.DetailsChanged):
            changed = {"name": ev.sealed_name, "grade": ev.grade, "school_id": ev.school_id}
            conn.execute(
                _newer(t.students, stream, version).values(
                    {k: v for k, v in changed.items() if v is not None}
                )
            )
        elif isinstance(ev, Learner.DetailsChanged):
            conn.execute(
                _newer(t.students, stream, version).values(
                    name=ev.name, grade=ev.grade, school_id=ev.school_id
                )
            )
        elif isinstance(ev, SchoolClass.Formed):
            if _has_stream(conn, t.classes, stream):
                return
            row = {
                "class_id": ev.class_id,
                "stream_id": stream,
                "stream_version": version,
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
        found = conn.execute(
            select(t.classes.c.class_id, t.classes.c.stream_version).where(
                t.classes.c.stream_id == str(ev.originator_id)
            )
        ).first()
        if found is None:
            raise LookupError(f"class stream {ev.originator_id} changed before it was formed")
        cid, seen = found
        if seen is not None and ev.originator_version <= seen:
            return  # redelivered: the row reflects it already
        where = t.classes.c.class_id == cid
        conn.execute(t.classes.update().where(where).values(stream_version=ev.originator_version))
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


def _has_stream(conn: Connection, table: Table, stream: str) -> bool:
    """Whether the stream's first event has made its row (a redelivery finds it)."""
    return conn.execute(select(table.c.stream_id).where(table.c.stream_id == stream)).first() is not None


def _newer(table: Table, stream: str, version: int) -> Update:
    """An UPDATE of the stream's row, only if the row reflects an older version of it."""
    c = table.c
    return (
        table.update()
        .where(c.stream_id == stream, or_(c.stream_version.is_(None), c.stream_version < version))
        .values(stream_version=version)
    )
