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

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import orjson

from domain.ids import learner_stream, objective_stream, profile_stream
from domain.rules.model import Rubric
from infra.eventstore import IndexRow, IntegrityError, LedgerStore, LogBusy
from infra.keys import StudentKeys
from infra.learning_mapper import LearningEventMapper, NewLearningEvent
from infra.sealing import StudentKey
from services.catalog import Catalog, ObjectiveView
from services.errors import Busy, Conflict, InvalidInput, error
from services.ingest.schemas import (
    AttemptIn,
    BenchmarkIn,
    EventIn,
    OverrideIn,
    ReflectionIn,
    RetakeIn,
    VoidIn,
)
from services.ingest.translate import translate

FUTURE_TOLERANCE = timedelta(minutes=5)
_RETRIES = 5


@dataclass(frozen=True)
class Backfill:
    """Events brought in from another system: each keeps the time it was
    recorded there and who recorded it (by event id)."""

    recorded: dict[str, tuple[datetime, str]]

    def problems(self, i: int, event: EventIn, now: datetime) -> list[dict[str, Any]]:
        at, _ = self.recorded[str(event.event_id)]
        loc: list[str | int] = ["body", "events", i, "recorded_at"]
        if at > now:
            return [error(loc, "recorded_at is in the future")]
        if at < event.occurred_at:
            return [error(loc, "recorded_at is before occurred_at: nothing is recorded before it happens")]
        return []


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


def _canonical(event: EventIn) -> tuple[dict[str, Any], bytes]:
    """The event as JSON values (model_dump(mode="json")), and that JSON with
    sorted keys, so the same event sent again hashes alike whatever its key order."""
    dumped: dict[str, Any] = event.__pydantic_serializer__.to_python(event, mode="json")
    return dumped, orjson.dumps(dumped, option=orjson.OPT_SORT_KEYS)


def _same_body(stored_hash: str, key: StudentKey | None, canonical: bytes) -> bool:
    """Whether an event sent again is the one stored under its id. The hash is
    keyed by the student's key (infra/sealing.py); events stored before
    schema version 2 hold a plain SHA-256, and are still matched by it."""
    if key is not None and stored_hash == key.body_hash(canonical):
        return True
    return stored_hash == hashlib.sha256(canonical).hexdigest()


def _reference(event: EventIn) -> tuple[str, UUID] | None:
    """The field naming an earlier event, and that event's id."""
    if isinstance(event, RetakeIn):
        return "retake_of", event.retake_of
    if isinstance(event, ReflectionIn):
        return "on_event", event.on_event
    if isinstance(event, VoidIn):
        return "target_event_id", event.target_event_id
    return None


def _objective_ids(event: EventIn) -> list[str]:
    if isinstance(event, (AttemptIn, OverrideIn)):
        return [event.objective_id]
    if isinstance(event, BenchmarkIn):
        return [r.objective_id for r in event.results]
    return []


class EventWriter:
    def __init__(self, store: LedgerStore, catalog: Catalog, keys: StudentKeys) -> None:
        self.store = store
        self.catalog = catalog
        self.keys = keys
        self.mapper = LearningEventMapper(store.mapper)

    def write(
        self,
        events: Sequence[EventIn],
        recorded_by: str,
        request_id: str,
        backfill: Backfill | None = None,
    ) -> BatchResult:
        """`backfill`: the events come from another system, each with its own
        recorded_at and recorder (admin only, services/ingest/backfill.py)."""
        assume_new = True
        for attempt in range(_RETRIES):
            try:
                return self._write_once(events, recorded_by, request_id, assume_new, backfill)
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

    def _write_once(
        self,
        events: Sequence[EventIn],
        recorded_by: str,
        request_id: str,
        assume_new: bool,
        backfill: Backfill | None,
    ) -> BatchResult:
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
        position = self._append(checked, recorded_by, request_id, backfill)
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
        canonical = [_canonical(e) for e in events]
        refs = [_reference(e) for e in events]
        # Strings from the canonical dump: UUID.__str__ is slow Python.
        ids: list[str] = [c["event_id"] for c, _ in canonical]
        targets = [c[r[0]] if r is not None else None for (c, _), r in zip(canonical, refs, strict=True)]
        lookups = {t for t in targets if t is not None}
        if not assume_new:
            lookups.update(ids)
        objective_ids = {oid for e in events for oid in _objective_ids(e)}
        students = {e.student_id for e in events}
        streams = [
            *(learner_stream(s) for s in students),
            *(profile_stream(s) for s in students),
            *(objective_stream(o) for o in objective_ids),
        ]
        heads, index = self.store.indexed.select_for_batch(streams, sorted(lookups))
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
            places, events, ids, canonical, refs, targets, strict=True
        ):
            key = keys.get(event.student_id)
            prior = index.get(eid) or batch.get(eid)
            if prior is not None:
                if _same_body(prior.body_hash, key, body):
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
            objective_id = self._check_objectives(event, objectives, i, errors)
            if ref is not None and tid is not None:
                field = ref[0]
                target = index.get(tid) or batch.get(tid)
                problem = self._check_reference(event, field, target)
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

    @staticmethod
    def _check_objectives(
        event: EventIn, objectives: dict[str, ObjectiveView], i: int, errors: list[dict[str, Any]]
    ) -> str | None:
        if isinstance(event, BenchmarkIn):
            for j, r in enumerate(event.results):
                if r.objective_id not in objectives:
                    errors.append(
                        error(
                            ["body", "events", i, "results", j, "objective_id"],
                            f"unknown objective {r.objective_id!r}",
                        )
                    )
            return None
        if not isinstance(event, (AttemptIn, OverrideIn)):
            return None
        view = objectives.get(event.objective_id)
        if view is None:
            errors.append(
                error(["body", "events", i, "objective_id"], f"unknown objective {event.objective_id!r}")
            )
            return None
        if isinstance(event, AttemptIn) and event.score.rubric_level is not None:
            loc: list[str | int] = ["body", "events", i, "score", "rubric_level"]
            rule = view.current_rule.threshold
            if not isinstance(rule, Rubric):
                errors.append(error(loc, "this objective's rule has no rubric levels"))
            elif event.score.rubric_level not in rule.levels:
                errors.append(
                    error(
                        loc,
                        f"{event.score.rubric_level!r} is not one of the rule's levels: "
                        + ", ".join(rule.levels),
                    )
                )
        return event.objective_id

    @staticmethod
    def _check_reference(event: EventIn, field: str, target: IndexRow | None) -> str | None:
        if target is None or target.student_id != event.student_id:
            # Another student's event is treated as unknown: never reveal it exists.
            return f"{field} names no earlier event of this student"
        if isinstance(event, (RetakeIn, ReflectionIn)) and target.record_type not in ("attempt", "retake"):
            return f"{field} must name an attempt or retake, not a {target.record_type}"
        if isinstance(event, RetakeIn) and target.objective_id != event.objective_id:
            return f"{field} names an attempt on another objective ({target.objective_id})"
        return None

    def _append(
        self, checked: Checked, recorded_by: str, request_id: str, backfill: Backfill | None
    ) -> int:
        if not checked.new:
            return self.store.head_position()
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
        stored = self.mapper.stored_events(
            rows,
            recorded_at=checked.now,
            recorded_by=recorded_by,
            request_id=request_id,
            recorded=[backfill.recorded[row.event_id] for _, row in checked.new] if backfill else None,
            migrated_by=recorded_by if backfill else None,
        )
        return self.store.indexed.append_batch(stored, [row for _, row in checked.new])
