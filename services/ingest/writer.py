"""Append a batch of learning events: validate against the store, then append
at each student's head version, atomically.

Nothing here loads a student's history: one query reads the head version of
every stream in the batch (which also proves each student is rostered), one
reads the event index for duplicates and references. The (stream, version)
and event-id uniqueness of the store guard against concurrent writers; on a
conflict the whole batch is checked again and retried.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import orjson

from domain.ids import learner_stream
from domain.learner import Learner, learning_event
from domain.rules.model import Rubric
from infra.eventstore import IndexRow, IntegrityError, LedgerStore
from services.catalog import Catalog
from services.errors import Conflict, InvalidInput, error
from services.ingest.schemas import (
    AttemptIn,
    BenchmarkIn,
    EventIn,
    OverrideIn,
    ReflectionIn,
    RetakeIn,
    VoidIn,
)

FUTURE_TOLERANCE = timedelta(minutes=5)
_COMMON = {"event_id", "type", "student_id", "occurred_at"}
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


def body_hash(event: EventIn) -> str:
    canonical = orjson.dumps(event.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def _body(event: EventIn) -> dict[str, Any]:
    return event.model_dump(mode="json", exclude=_COMMON, exclude_none=True)


def _reference(event: EventIn) -> tuple[str, UUID] | None:
    if isinstance(event, RetakeIn):
        return "retake_of", event.retake_of
    if isinstance(event, ReflectionIn):
        return "on_event", event.on_event
    if isinstance(event, VoidIn):
        return "target_event_id", event.target_event_id
    return None


class EventWriter:
    def __init__(self, store: LedgerStore, catalog: Catalog) -> None:
        self.store = store
        self.catalog = catalog

    def write(self, events: Sequence[EventIn], recorded_by: str, request_id: str) -> BatchResult:
        for attempt in range(_RETRIES):
            try:
                return self._write_once(events, recorded_by, request_id)
            except IntegrityError:
                # Another writer appended to one of these streams, or stored one of
                # these event ids, between our check and our append. Check again.
                if attempt == _RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    def _write_once(self, events: Sequence[EventIn], recorded_by: str, request_id: str) -> BatchResult:
        checked = self.check(events)
        if checked.errors:
            raise InvalidInput(
                f"{len(checked.errors)} problem(s) in the batch; nothing was stored", checked.errors
            )
        if checked.conflicts:
            raise Conflict(
                "an event_id was reused with a different body; nothing was stored", checked.conflicts
            )
        position = self._append(checked.new, checked.heads, checked.now, recorded_by, request_id)
        stored = len(checked.new)
        return BatchResult(stored, len(events) - stored, position, checked.outcome)

    def check(self, events: Sequence[EventIn], indices: Sequence[int] | None = None) -> Checked:
        """Check a batch against the store without writing. `indices` are the
        events' places in the request when some were already refused by the schema."""
        now = datetime.now(UTC)
        places = list(indices) if indices is not None else list(range(len(events)))
        hashes = [body_hash(e) for e in events]
        ids = [str(e.event_id) for e in events]
        refs = {str(r[1]) for e in events if (r := _reference(e))}
        index = self.store.indexed.select_index(sorted(set(ids) | refs))
        students = {e.student_id for e in events}
        heads = self.store.indexed.select_heads([learner_stream(s) for s in students])
        objective_ids = {
            oid
            for e in events
            for oid in (
                [e.objective_id]
                if isinstance(e, (AttemptIn, OverrideIn))
                else [r.objective_id for r in e.results]
                if isinstance(e, BenchmarkIn)
                else []
            )
        }
        objectives = self.catalog.get_many(objective_ids)

        errors: list[dict[str, Any]] = []
        conflicts: list[dict[str, Any]] = []
        # What this batch adds, so later events may reference earlier ones.
        batch: dict[str, IndexRow] = {}
        outcome: list[tuple[str, str]] = []
        new: list[tuple[EventIn, IndexRow]] = []

        for i, event, digest, eid in zip(places, events, hashes, ids, strict=True):
            loc: list[str | int] = ["body", "events", i]
            prior = index.get(eid) or batch.get(eid)
            if prior is not None:
                if prior.body_hash == digest:
                    outcome.append((eid, "duplicate"))
                else:
                    conflicts.append(
                        error([*loc, "event_id"], f"event_id {eid} was already used with a different body")
                    )
                continue
            before = len(errors)
            if learner_stream(event.student_id) not in heads:
                errors.append(error([*loc, "student_id"], f"unknown student {event.student_id!r}"))
            if event.occurred_at > now + FUTURE_TOLERANCE:
                errors.append(
                    error([*loc, "occurred_at"], "occurred_at is more than 5 minutes in the future")
                )
            objective_id = self._check_objectives(event, objectives, loc, errors)
            ref = _reference(event)
            if ref is not None:
                field, target_id = ref
                target = index.get(str(target_id)) or batch.get(str(target_id))
                problem = self._check_reference(event, field, target)
                if problem:
                    errors.append(error([*loc, field], problem))
                elif target is not None and objective_id is None:
                    objective_id = target.objective_id
            if len(errors) > before:
                continue
            row = IndexRow(eid, event.student_id, event.type, objective_id, digest)
            batch[eid] = row
            new.append((event, row))
            outcome.append((eid, "stored"))
        return Checked(errors, conflicts, new, outcome, heads, now)

    def _check_objectives(
        self, event: EventIn, objectives: dict[str, Any], loc: list[str | int], errors: list[dict[str, Any]]
    ) -> str | None:
        if isinstance(event, BenchmarkIn):
            for j, r in enumerate(event.results):
                if r.objective_id not in objectives:
                    errors.append(
                        error([*loc, "results", j, "objective_id"], f"unknown objective {r.objective_id!r}")
                    )
            return None
        if not isinstance(event, (AttemptIn, OverrideIn)):
            return None
        view = objectives.get(event.objective_id)
        if view is None:
            errors.append(error([*loc, "objective_id"], f"unknown objective {event.objective_id!r}"))
            return None
        if isinstance(event, AttemptIn) and event.score.rubric_level is not None:
            rule = view.current_rule.threshold
            if not isinstance(rule, Rubric):
                errors.append(
                    error([*loc, "score", "rubric_level"], "this objective's rule has no rubric levels")
                )
            elif event.score.rubric_level not in rule.levels:
                errors.append(
                    error(
                        [*loc, "score", "rubric_level"],
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
        self,
        new: list[tuple[EventIn, IndexRow]],
        heads: dict[UUID, int],
        now: datetime,
        recorded_by: str,
        request_id: str,
    ) -> int:
        if not new:
            return self.store.head_position()
        versions = dict(heads)
        domain_events: list[Learner.LearningEvent] = []
        for event, _row in new:
            stream = learner_stream(event.student_id)
            versions[stream] += 1
            domain_events.append(
                learning_event(
                    event.type,
                    student_id=event.student_id,
                    version=versions[stream],
                    recorded_at=now,
                    event_id=str(event.event_id),
                    occurred_at=event.occurred_at,
                    recorded_by=recorded_by,
                    request_id=request_id,
                    body=_body(event),
                )
            )
        recordings = self.store.events.put(domain_events, index_rows=[row for _, row in new])
        return max(r.notification.id for r in recordings)
