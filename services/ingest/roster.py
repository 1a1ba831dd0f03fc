"""Catalog and roster writes: PUT creates an aggregate or records what changed."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.ids import class_stream, learner_stream, objective_stream, profile_stream, school_stream
from domain.objective import Objective
from domain.profile import StudentProfile
from domain.roster import School, SchoolClass
from infra.eventstore import IntegrityError, LogBusy
from infra.keys import NAME_CONTEXT as NAME
from infra.sealing import StudentKey
from services.errors import Busy, Conflict, InvalidInput, NotFound, error
from services.ingest.ports import AggregateLog, StudentKeyRing
from services.ingest.record_locks import RecordLocks
from services.ingest.schemas import ClassIn, ObjectiveIn, SchoolIn, StudentIn, WriteOut

A = TypeVar("A", bound=Aggregate)

# A PUT that finds its record's next version taken (another process's PUT of
# it, or learning events appended to the student) reads the record again and
# decides again, after a jittered backoff so that colliding writers spread
# out. Each collision is another writer's success, so retrying makes progress;
# within a process PUTs of one record take turns and do not collide at all.
# Only that collision is retried: any other error is raised at once.
_FIRST_BACKOFF = 0.002  # seconds, doubling up to _MAX_BACKOFF
_MAX_BACKOFF = 0.25
_GIVE_UP_AFTER = 30.0  # seconds of collisions, then 503 (try again)


def _never_created() -> StudentProfile:
    raise AssertionError("the profile exists: checked before")


class RosterWriter:
    def __init__(self, log: AggregateLog, keys: StudentKeyRing) -> None:
        self.log = log
        self.keys = keys
        self._locks = RecordLocks()

    def _upsert(
        self,
        ident: str,
        stream: UUID,
        kind: type[A],
        create: Callable[[], A],
        revise: Callable[[A], None],
    ) -> WriteOut:
        deadline = time.monotonic() + _GIVE_UP_AFTER
        backoff = _FIRST_BACKOFF
        while True:
            with self._locks.holding(stream):
                try:
                    return self._upsert_once(ident, stream, kind, create, revise)
                except IntegrityError as e:
                    if not self.log.is_stream_conflict(e):
                        raise
                except LogBusy as e:
                    raise Busy(f"the event log is busy; nothing was stored: {e}") from e
            if time.monotonic() + backoff > deadline:
                raise Busy(f"{ident!r} is being changed by other writers; nothing was stored")
            time.sleep(random.uniform(0, backoff))
            backoff = min(2 * backoff, _MAX_BACKOFF)

    def _upsert_once(
        self,
        ident: str,
        stream: UUID,
        kind: type[A],
        create: Callable[[], A],
        revise: Callable[[A], None],
    ) -> WriteOut:
        existing = self.log.aggregate(stream)
        if existing is None:
            aggregate: A = create()
            created = True
        else:
            assert isinstance(existing, kind)
            aggregate = existing
            revise(aggregate)
            created = False
        events = aggregate.collect_events()
        position = self.log.record(events) if events else self.log.head_position()
        return WriteOut(id=ident, created=created, changed=bool(events), position=position)

    def _exists(self, streams: list[UUID]) -> set[UUID]:
        return self.log.existing(streams)

    def put_school(self, school_id: str, body: SchoolIn) -> WriteOut:
        return self._upsert(
            school_id,
            school_stream(school_id),
            School,
            lambda: School(school_id=school_id, name=body.name),
            lambda s: s.rename(body.name),
        )

    def _require_school(self, school_id: str) -> None:
        if school_stream(school_id) not in self._exists([school_stream(school_id)]):
            raise InvalidInput(
                "unknown school", [error(["body", "school_id"], f"unknown school {school_id!r}")]
            )

    def put_student(self, student_id: str, body: StudentIn) -> WriteOut:
        """The profile stream alone is read and written: a student's learning
        history is never loaded to change their name."""
        self._require_school(body.school_id)
        [key], erased = self._keys(student_id)
        if erased or key is None:
            raise Conflict(f"student {student_id!r} was erased; nothing was stored")

        def revise(profile: StudentProfile) -> None:
            if profile.erased_at is not None:
                raise Conflict(f"student {student_id!r} was erased; nothing was stored")
            same = key.open(profile.sealed_name, NAME) == body.name
            profile.change(None if same else key.seal(body.name, NAME), body.grade, body.school_id)

        out = self._upsert(
            student_id,
            profile_stream(student_id),
            StudentProfile,
            lambda: StudentProfile(
                student_id=student_id,
                sealed_name=key.seal(body.name, NAME),
                grade=body.grade,
                school_id=body.school_id,
            ),
            revise,
        )
        if out.created and learner_stream(student_id) in self._exists([learner_stream(student_id)]):
            # Rostered by a store before schema version 2 (the profile opened the
            # learning stream): the student is not new, only its profile stream.
            return out.model_copy(update={"created": False})
        return out

    def _keys(self, student_id: str) -> tuple[list[StudentKey | None], bool]:
        keys, erased = self.keys.for_writing([student_id])
        return [keys.get(student_id)], student_id in erased

    def erase_student(self, student_id: str, erased_by: str, reason: str) -> WriteOut:
        """Record the erasure in the profile stream, then destroy the key. In
        that order: a crash between the two leaves a recorded erasure whose key
        `mastery erase` destroys when run again, never a destroyed key with no
        record of who did it and why."""
        streams = [profile_stream(student_id), learner_stream(student_id)]
        exists = self._exists(streams)
        if profile_stream(student_id) not in exists:
            if learner_stream(student_id) in exists:
                raise Conflict(
                    f"student {student_id!r} was rostered before personal data was sealed (schema "
                    "version 1): their name and free text are stored in clear and cannot be erased "
                    "by destroying a key"
                )
            raise NotFound(f"no student {student_id!r}")

        def erase(profile: StudentProfile) -> None:
            if profile.erased_at is None:
                profile.erase(erased_by, reason)

        out = self._upsert(student_id, profile_stream(student_id), StudentProfile, _never_created, erase)
        self.keys.destroy(student_id)
        return out

    def put_class(self, class_id: str, body: ClassIn) -> WriteOut:
        self._require_school(body.school_id)
        # A profile stream, or a learning stream a store before schema version 2 opened with the profile.
        streams = [s(sid) for sid in body.student_ids for s in (profile_stream, learner_stream)]
        known = self._exists(streams)
        missing = [
            error(["body", "student_ids", i], f"unknown student {sid!r}")
            for i, sid in enumerate(body.student_ids)
            if profile_stream(sid) not in known and learner_stream(sid) not in known
        ]
        if missing:
            raise InvalidInput("the class names students who are not rostered", missing)
        return self._upsert(
            class_id,
            class_stream(class_id),
            SchoolClass,
            lambda: SchoolClass(
                class_id=class_id,
                name=body.name,
                school_id=body.school_id,
                teacher_ids=list(body.teacher_ids),
                student_ids=list(dict.fromkeys(body.student_ids)),
            ),
            lambda c: c.revise(body.name, body.school_id, list(body.teacher_ids), list(body.student_ids)),
        )

    def put_objective(self, objective_id: str, body: ObjectiveIn) -> WriteOut:
        prereq_streams = [objective_stream(p) for p in body.prerequisites]
        known = self._exists(prereq_streams)
        missing = [
            error(["body", "prerequisites", i], f"unknown objective {p!r}")
            for i, (p, s) in enumerate(zip(body.prerequisites, prereq_streams, strict=True))
            if s not in known and p != objective_id
        ]
        if objective_id in body.prerequisites:
            missing.append(error(["body", "prerequisites"], "an objective cannot be its own prerequisite"))
        if missing:
            raise InvalidInput("invalid prerequisites", missing)
        effective_from = body.effective_from or datetime.now(UTC)
        return self._upsert(
            objective_id,
            objective_stream(objective_id),
            Objective,
            lambda: Objective(
                objective_id=objective_id,
                statement=body.statement,
                subject=body.subject,
                course=body.course,
                unit=body.unit,
                sequence=body.sequence,
                prerequisites=list(body.prerequisites),
                rule=body.rule.model_dump(mode="json"),
                effective_from=effective_from,
            ),
            lambda o: o.revise(
                body.statement,
                body.subject,
                body.course,
                body.unit,
                body.sequence,
                list(body.prerequisites),
                body.rule,
                effective_from,
            ),
        )
