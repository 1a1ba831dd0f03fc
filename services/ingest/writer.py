"""Append a batch of learning events: validate against the store, then append
at each student's head version, atomically.

Nothing here loads a student's history: one round trip reads the head version
of every stream in the batch (which also proves each student is rostered and
each objective exists) and the event index rows of the events it references.
The versions are taken from the heads again inside the appending transaction,
under the log's write lock (`infra.recorders.at_heads`), so concurrent batches
for the same students queue; the event-id uniqueness of the store guards
against two writers of one event id, and then the whole batch is checked
again and retried.

The first attempt assumes the batch's event ids are new and does not look
them up: the event index's primary key refuses an id already stored, and
then the batch is checked in full (duplicates, 409s) and retried. A batch
the first check finds anything wrong with is checked in full before it is
answered, so the answer is always the full check's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from domain.ids import learner_stream, objective_stream, profile_stream
from infra.eventstore import IndexRow, IntegrityError, LogBusy
from infra.learning_mapper import NewLearningEvent, Recording
from infra.sealing import StudentKey
from services.errors import Busy, Conflict, InvalidInput, error
from services.ingest.commands import RecordEvents
from services.ingest.event_checks import (
    Backfill,
    canonical,
    check_objectives,
    check_reference,
    objectives_named,
    reference,
    same_body,
)
from services.ingest.ports import KeyRing, LearningLog, ObjectiveLookup
from services.ingest.schemas import EventIn
from services.ingest.translate import translate

FUTURE_TOLERANCE = timedelta(minutes=5)
_RETRIES = 5


@dataclass(frozen=True)
class BatchResult:
    stored: int
    duplicates: int
    position: int
    results: list[tuple[str, str]]


@dataclass(frozen=True)
class Checked:
    errors: list[dict[str, Any]]
    conflicts: list[dict[str, Any]]
    new: list[tuple[EventIn, IndexRow]]
    outcome: list[tuple[str, str]]
    heads: dict[UUID, int]
    now: datetime
    keys: dict[str, StudentKey]


# The models' own serializers, called directly: model_dump is a Python wrapper
# around them that cost ~0.4 us of each of the two dumps per event.


class EventWriter:
    def __init__(self, log: LearningLog, catalog: ObjectiveLookup, keys: KeyRing) -> None:
        self.log = log
        self.catalog = catalog
        self.keys = keys

    def write(self, command: RecordEvents) -> BatchResult:
        assume_new = True
        for attempt in range(_RETRIES):
            try:
                return self._write_once(command, assume_new)
            except LogBusy as e:
                raise Busy(f"the event log is busy; nothing was stored: {e}") from e
            except IntegrityError:
                # One of these event ids is stored after all, or another writer appended
                # to one of these streams or stored one of these ids since the check:
                # check again, in full.
                assume_new = False
                if attempt == _RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    def _write_once(self, command: RecordEvents, assume_new: bool) -> BatchResult:
        events, backfill = command.events, command.backfill
        checked = self.check(events, assume_new=assume_new, backfill=backfill)
        if assume_new and (checked.errors or checked.conflicts):
            checked = self.check(events, backfill=backfill)  # answer as the full check does
        if checked.errors:
            raise InvalidInput(
                f"{len(checked.errors)} problem(s) in the batch; nothing was stored", checked.errors
            )
        if checked.conflicts:
            raise Conflict(
                "an event_id was reused with a different body; nothing was stored", checked.conflicts
            )
        position = self._append(checked, command)
        stored = len(checked.new)
        return BatchResult(stored, len(events) - stored, position, checked.outcome)

    def check(
        self,
        events: Sequence[EventIn],
        indices: Sequence[int] | None = None,
        *,
        assume_new: bool = False,
        backfill: Backfill | None = None,
    ) -> Checked:
        """Check a batch against the store without writing. `indices` are the
        events' places in the request when some were already refused by the schema.
        With `assume_new`, the events' own ids are not looked up in the store."""
        now = datetime.now(UTC)
        latest = now + FUTURE_TOLERANCE
        places = list(indices) if indices is not None else list(range(len(events)))
        dumps = [canonical(e) for e in events]
        refs = [reference(e) for e in events]
        # Strings from the canonical dump: UUID.__str__ is slow Python.
        ids: list[str] = [c["event_id"] for c, _ in dumps]
        targets = [c[r[0]] if r is not None else None for (c, _), r in zip(dumps, refs, strict=True)]
        lookups = {t for t in targets if t is not None}
        if not assume_new:
            lookups.update(ids)
        objective_ids = {oid for e in events for oid in objectives_named(e)}
        students = {e.student_id for e in events}
        streams = [
            *(learner_stream(s) for s in students),
            *(profile_stream(s) for s in students),
            *(objective_stream(o) for o in objective_ids),
        ]
        heads, index = self.log.heads_and_index(streams, sorted(lookups))
        # Stores before schema version 2 opened the learning stream with the profile.
        rostered = {s for s in students if profile_stream(s) in heads or learner_stream(s) in heads}
        keys, erased = self.keys.for_writing(rostered)
        objectives = self.catalog.at_heads(objective_ids, heads)

        errors: list[dict[str, Any]] = []
        conflicts: list[dict[str, Any]] = []
        # What this batch adds, so later events may reference earlier ones.
        batch: dict[str, IndexRow] = {}
        outcome: list[tuple[str, str]] = []
        new: list[tuple[EventIn, IndexRow]] = []

        for i, event, eid, (_, body), ref, tid in zip(
            places, events, ids, dumps, refs, targets, strict=True
        ):
            key = keys.get(event.student_id)
            prior = index.get(eid) or batch.get(eid)
            if prior is not None:
                if same_body(prior.body_hash, key, body):
                    outcome.append((eid, "duplicate"))
                else:
                    conflicts.append(
                        error(
                            ["body", "events", i, "event_id"],
                            f"event_id {eid} was already used with a different body",
                        )
                    )
                continue
            before = len(errors)
            if event.student_id not in rostered:
                errors.append(
                    error(["body", "events", i, "student_id"], f"unknown student {event.student_id!r}")
                )
            elif event.student_id in erased:
                errors.append(
                    error(
                        ["body", "events", i, "student_id"],
                        f"student {event.student_id!r} was erased and takes no new events",
                    )
                )
            if event.occurred_at > latest:
                errors.append(
                    error(
                        ["body", "events", i, "occurred_at"],
                        "occurred_at is more than 5 minutes in the future",
                    )
                )
            if backfill is not None:
                errors.extend(backfill.problems(i, event, now))
            objective_id = check_objectives(event, objectives, i, errors)
            if ref is not None and tid is not None:
                field = ref[0]
                target = index.get(tid) or batch.get(tid)
                problem = check_reference(event, field, target)
                if problem:
                    errors.append(error(["body", "events", i, field], problem))
                elif target is not None and objective_id is None:
                    objective_id = target.objective_id
            if len(errors) > before or key is None:
                continue
            row = IndexRow(eid, event.student_id, event.type, objective_id, key.body_hash(body))
            batch[eid] = row
            new.append((event, row))
            outcome.append((eid, "stored"))
        return Checked(errors, conflicts, new, outcome, heads, now, keys)

    def _append(self, checked: Checked, command: RecordEvents) -> int:
        if not checked.new:
            return self.log.head_position()
        versions: dict[str, int] = {}
        rows: list[NewLearningEvent] = []
        for event, row in checked.new:
            student = event.student_id
            stream = learner_stream(student)
            version = versions[student] = versions.get(student, checked.heads.get(stream, 0)) + 1
            payload, personal = translate(event)
            sealed = checked.keys[student].seal(personal, row.event_id) if personal else None
            rows.append(
                (event.type, stream, version, student, row.event_id, event.occurred_at, payload, sealed)
            )
        backfill = command.backfill
        recording = Recording(
            recorded_at=checked.now,
            recorded_by=command.recorded_by,
            request_id=command.request_id,
            recorded=[backfill.recorded[row.event_id] for _, row in checked.new] if backfill else None,
            migrated_by=command.recorded_by if backfill else None,
        )
        return self.log.append(rows, [row for _, row in checked.new], recording)
