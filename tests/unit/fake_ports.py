"""In-memory adapters for the ingest writers' ports
(services/ingest/ports.py): what the unit tests of the write paths run
them against. They keep the real adapters' promises (all or nothing, a stored
event id refused, versions from the heads at the moment of appending) and
nothing more; tests/integration holds the writer to the real stores."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, CanMutateAggregate
from eventsourcing.persistence import IntegrityError

from domain.ids import learner_stream, objective_stream, profile_stream
from domain.rules.model import Rule
from domain.rules.versions import RuleVersion
from infra.eventstore import IndexRow, LogBusy
from infra.learning_mapper import NewLearningEvent, Recording
from infra.sealing import StudentKey
from services.catalog import ObjectiveView
from services.ingest.writer import EventWriter

SINCE_AUGUST = datetime(2026, 8, 1, tzinfo=UTC)


class _AnotherWriter:
    """`meanwhile`, if a test sets it, runs once inside the next write, before
    anything is stored: another writer, between the writer's read and its write."""

    def __init__(self) -> None:
        self.meanwhile: Callable[[], object] | None = None

    def _let_another_writer_in(self) -> None:
        if self.meanwhile is not None:
            meanwhile, self.meanwhile = self.meanwhile, None
            meanwhile()


class InMemoryLearningLog(_AnotherWriter):
    def __init__(self) -> None:
        super().__init__()
        self.heads: dict[UUID, int] = {}
        self.index: dict[str, IndexRow] = {}
        self.events: list[NewLearningEvent] = []
        self.recordings: list[Recording] = []
        self.busy = False

    def heads_and_index(
        self, streams: Sequence[UUID], event_ids: Sequence[str]
    ) -> tuple[dict[UUID, int], dict[str, IndexRow]]:
        return (
            {s: self.heads[s] for s in streams if s in self.heads},
            {e: self.index[e] for e in event_ids if e in self.index},
        )

    def append(
        self, events: Sequence[NewLearningEvent], index_rows: Sequence[IndexRow], recording: Recording
    ) -> int:
        if self.busy:
            raise LogBusy("the log's write lock was not had in time")
        self._let_another_writer_in()
        ids = [row.event_id for row in index_rows]
        if len(set(ids)) < len(ids) or any(i in self.index for i in ids):
            raise IntegrityError("duplicate key value violates unique constraint event_index_pkey")
        heads = dict(self.heads)
        numbered: list[NewLearningEvent] = []
        for record_type, stream, _, student, event_id, occurred_at, payload, sealed in events:
            heads[stream] = heads.get(stream, 0) + 1
            numbered.append(
                (record_type, stream, heads[stream], student, event_id, occurred_at, payload, sealed)
            )
        self.heads = heads
        self.index.update((row.event_id, row) for row in index_rows)
        self.events.extend(numbered)
        self.recordings.append(recording)
        return len(self.events)

    def head_position(self) -> int:
        return len(self.events)

    def stored(self, record_type: str, student: str, objective: str | None, event_id: str) -> None:
        """An event another writer stored, through the same append (which numbers it)."""
        stream = learner_stream(student)
        event: NewLearningEvent = (record_type, stream, 0, student, event_id, SINCE_AUGUST, {}, None)
        row = IndexRow(event_id, student, record_type, objective, "another writer's hash")
        self.append([event], [row], Recording(SINCE_AUGUST, "teacher:another", "another-request"))


class InMemoryCatalog:
    def __init__(self) -> None:
        self.views: dict[str, ObjectiveView] = {}

    def at_heads(self, objective_ids: Iterable[str], heads: Mapping[UUID, int]) -> dict[str, ObjectiveView]:
        return {o: self.views[o] for o in objective_ids if o in self.views and objective_stream(o) in heads}


class InMemoryKeyRing:
    def __init__(self) -> None:
        self.keys: dict[str, StudentKey] = {}
        self.erased: set[str] = set()

    def for_writing(self, student_ids: Iterable[str]) -> tuple[dict[str, StudentKey], set[str]]:
        wanted = set(student_ids)
        for s in wanted - self.erased - set(self.keys):
            self.keys[s] = StudentKey(s, os.urandom(32))
        return {s: self.keys[s] for s in wanted if s in self.keys}, wanted & self.erased

    def destroy(self, student_id: str) -> bool:
        self.erased.add(student_id)
        return self.keys.pop(student_id, None) is not None


STREAM_VERSION_TAKEN = (
    "UNIQUE constraint failed: stored_events.originator_id, stored_events.originator_version"
)


class InMemoryAggregateLog(_AnotherWriter):
    """Streams of aggregate events, each version taken once."""

    def __init__(self) -> None:
        super().__init__()
        self.streams: dict[UUID, list[CanMutateAggregate[UUID]]] = {}
        self.position = 0

    def aggregate(self, stream: UUID) -> Aggregate | None:
        aggregate: Aggregate | None = None
        for event in self.streams.get(stream, []):
            aggregate = event.mutate(aggregate)
        return aggregate

    def existing(self, streams: Sequence[UUID]) -> set[UUID]:
        return {s for s in streams if s in self.streams}

    def record(self, events: Sequence[CanMutateAggregate[UUID]]) -> int:
        self._let_another_writer_in()
        stream = self.streams.setdefault(events[0].originator_id, [])
        if [e.originator_version for e in events] != list(
            range(len(stream) + 1, len(stream) + 1 + len(events))
        ):
            raise IntegrityError(STREAM_VERSION_TAKEN)
        stream.extend(events)
        self.position += len(events)
        return self.position

    def is_stream_conflict(self, error: IntegrityError) -> bool:
        return str(error) == STREAM_VERSION_TAKEN

    def head_position(self) -> int:
        return self.position


class School:
    """A store's worth of roster and catalog in memory, and the writer over it."""

    def __init__(self) -> None:
        self.log = InMemoryLearningLog()
        self.catalog = InMemoryCatalog()
        self.keys = InMemoryKeyRing()
        self.writer = EventWriter(self.log, self.catalog, self.keys)

    def enrol(self, *students: str) -> None:
        for s in students:
            self.log.heads[profile_stream(s)] = 1

    def erase(self, student: str) -> None:
        self.keys.destroy(student)

    def objective(self, oid: str, rule: dict[str, Any]) -> None:
        version = RuleVersion(1, Rule.model_validate(rule), SINCE_AUGUST, SINCE_AUGUST)
        self.catalog.views[oid] = ObjectiveView(
            oid, f"Objective {oid}", "math", "alg1", "u1", 1, (), (version,), 1
        )
        self.log.heads[objective_stream(oid)] = 1
