"""The event store as the roster and catalog writer uses it (the port is
services/ingest/ports.py `AggregateLog`): an aggregate by its stream, which
streams exist, and the new events of one aggregate recorded at once."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate, CanMutateAggregate

from infra.eventstore import IntegrityError, LedgerStore


class StoreAggregateLog:
    def __init__(self, store: LedgerStore) -> None:
        self.store = store

    def aggregate(self, stream: UUID) -> Aggregate | None:
        try:
            found: Aggregate = self.store.repository.get(stream)
        except AggregateNotFoundError:
            return None
        return found

    def existing(self, streams: Sequence[UUID]) -> set[UUID]:
        return set(self.store.indexed.select_heads(streams))

    def record(self, events: Sequence[CanMutateAggregate[UUID]]) -> int:
        recordings = self.store.events.put(events)
        return max(r.notification.id for r in recordings)

    def is_stream_conflict(self, error: IntegrityError) -> bool:
        return self.store.indexed.is_stream_conflict(error)

    def head_position(self) -> int:
        return self.store.head_position()
