"""What the store holds of the roster, read in bulk for an import to compare
with: the school, profile and class aggregates as their streams make them.

Which records exist at all comes from the read models (the log has no index
by kind); the caller brings them up to the log's head first. The records
themselves are rebuilt from their streams, read many at a time: the events
an import appends then follow on from the versions the log really holds, and
a writer that changed one in between makes the append fail, not go astray.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from sqlalchemy import Engine, select

from domain.ids import class_stream, profile_stream, school_stream
from domain.profile import StudentProfile
from domain.roster import School, SchoolClass
from infra.eventstore import LedgerStore
from infra.readmodels import classes, schools, students
from infra.stream_reads import select_streams

A = TypeVar("A", bound=Aggregate)


@dataclass(frozen=True)
class ProfileRow:
    """A student's profile as the read models hold it: enough to tell whether
    an import changes it. Only the profiles that change are rebuilt from their
    streams (`load_profiles`): a nightly re-sync changes few of 50,000."""

    sealed_name: str  # sealed (infra/sealing.py); in clear from a store before schema version 2
    grade: str
    school_id: str


@dataclass
class StoredRoster:
    schools: dict[str, School] = field(default_factory=dict)
    profiles: dict[str, ProfileRow] = field(default_factory=dict)
    classes: dict[str, SchoolClass] = field(default_factory=dict)
    student_ids: set[str] = field(default_factory=set)  # every rostered student
    legacy: set[str] = field(default_factory=set)  # rostered before profiles had streams of their own

    def teachers(self) -> set[str]:
        return {t for c in self.classes.values() for t in c.teacher_ids}

    def is_student(self, user_id: str) -> bool:
        return user_id in self.student_ids


def load_roster(
    store: LedgerStore,
    read_models: Engine,
    school_ids: Iterable[str],
    class_ids: Iterable[str],
) -> StoredRoster:
    """Every student's profile row; the schools and classes named and every
    one the read models know (an import may change any class: a removed
    student leaves all of theirs), rebuilt from their streams."""
    with read_models.connect() as conn:
        known_schools = set(conn.execute(select(schools.c.school_id)).scalars())
        known_classes = set(conn.execute(select(classes.c.class_id)).scalars())
        rows = conn.execute(
            select(students.c.student_id, students.c.stream_id, students.c.name, students.c.grade,
                   students.c.school_id)
        ).all()  # fmt: skip
    out = StoredRoster()
    for sid, stream, name, grade, school in rows:
        out.profiles[sid] = ProfileRow(name, grade, school)
        if stream != str(profile_stream(sid)):
            out.legacy.add(sid)  # its profile is still in its learning stream
    out.student_ids = set(out.profiles)
    out.schools = _aggregates(store, School, {school_stream(s): s for s in known_schools.union(school_ids)})
    out.classes = _aggregates(
        store, SchoolClass, {class_stream(c): c for c in known_classes.union(class_ids)}
    )
    return out


def load_profiles(store: LedgerStore, student_ids: Iterable[str]) -> dict[str, StudentProfile]:
    return _aggregates(store, StudentProfile, {profile_stream(s): s for s in student_ids})


def _aggregates(store: LedgerStore, kind: type[A], ids: dict[UUID, str]) -> dict[str, A]:
    found: dict[str, A] = {}
    for stream, stored in select_streams(store.indexed, list(ids)).items():
        aggregate: Aggregate | None = None
        for se in stored:
            event = store.mapper.to_domain_event(se)
            assert isinstance(event, Aggregate.Event)
            aggregate = event.mutate(aggregate)
        assert isinstance(aggregate, kind), f"stream {stream} is not a {kind.__name__}"
        found[ids[stream]] = aggregate
    return found
