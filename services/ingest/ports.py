"""What the writers of the ingest service need of the world, as small
protocols. The learning-event writer (services/ingest/writer.py): the event
log, the objectives, the students' keys. The roster and catalog writer
(services/ingest/roster.py): the log as aggregates, and the keys. The
composition root (services/bootstrap.py) hands them the real adapters
(infra/learning_log.py, infra/roster_log.py, services/catalog.py,
infra/keys.py); the unit tests hand them in-memory ones
(tests/unit/fake_ports.py), so what they check and in which order they
write is tested without a database."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate, CanMutateAggregate

from infra.eventstore import IndexRow, IntegrityError
from infra.learning_mapper import NewLearningEvent, Recording
from infra.sealing import StudentKey
from services.catalog import ObjectiveView


class LearningLog(Protocol):
    def heads_and_index(
        self, streams: Sequence[UUID], event_ids: Sequence[str]
    ) -> tuple[dict[UUID, int], dict[str, IndexRow]]:
        """The head version of each stream that exists, and the index rows of
        the event ids already stored."""
        ...

    def append(
        self, events: Sequence[NewLearningEvent], index_rows: Sequence[IndexRow], recording: Recording
    ) -> int:
        """All of the events and their index rows, or nothing; the log position
        after them. Raises `IntegrityError` when an event id is stored already,
        `LogBusy` when the log cannot be written now. Each event's version is
        its stream's head at the moment of appending, plus its place."""
        ...

    def head_position(self) -> int: ...


class ObjectiveLookup(Protocol):
    def at_heads(self, objective_ids: Iterable[str], heads: Mapping[UUID, int]) -> dict[str, ObjectiveView]:
        """The objectives among these whose streams have a head in `heads`."""
        ...


class KeyRing(Protocol):
    def for_writing(self, student_ids: Iterable[str]) -> tuple[dict[str, StudentKey], set[str]]:
        """The keys of these students (drawn for those that have none), and
        the erased among them, who get none."""
        ...


class StudentKeyRing(KeyRing, Protocol):
    def destroy(self, student_id: str) -> bool:
        """Destroy the student's key for good (marking them erased first);
        False if it was already gone."""
        ...


class AggregateLog(Protocol):
    def aggregate(self, stream: UUID) -> Aggregate | None:
        """The aggregate as its stream's events make it, or None for no stream."""
        ...

    def existing(self, streams: Sequence[UUID]) -> set[UUID]: ...

    def record(self, events: Sequence[CanMutateAggregate[UUID]]) -> int:
        """One aggregate's new events, all or none; the log position after
        them. Another writer's event at one of their versions raises an
        `IntegrityError` that `is_stream_conflict` recognises."""
        ...

    def is_stream_conflict(self, error: IntegrityError) -> bool: ...

    def head_position(self) -> int: ...
