"""The event store as the learning-event writer uses it (the port is
services/ingest/ports.py `LearningLog`): the heads and index rows a batch is
checked against, and one append of the batch with its index rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from infra.eventstore import IndexRow, LedgerStore
from infra.learning_mapper import LearningEventMapper, NewLearningEvent


@dataclass(frozen=True)
class Recording:
    """Who recorded a batch, when, and under which request. `recorded`: each
    event's own (recorded_at, recorded_by) when the batch comes from another
    system, `migrated_by` who brought it in; otherwise the batch's."""

    recorded_at: datetime
    recorded_by: str
    request_id: str
    recorded: Sequence[tuple[datetime, str]] | None = None
    migrated_by: str | None = None


class StoreLearningLog:
    def __init__(self, store: LedgerStore) -> None:
        self.store = store
        self.mapper = LearningEventMapper(store.mapper)

    def heads_and_index(
        self, streams: Sequence[UUID], event_ids: Sequence[str]
    ) -> tuple[dict[UUID, int], dict[str, IndexRow]]:
        return self.store.indexed.select_for_batch(streams, event_ids)

    def append(
        self, events: Sequence[NewLearningEvent], index_rows: Sequence[IndexRow], recording: Recording
    ) -> int:
        stored = self.mapper.stored_events(
            events,
            recorded_at=recording.recorded_at,
            recorded_by=recording.recorded_by,
            request_id=recording.request_id,
            recorded=recording.recorded,
            migrated_by=recording.migrated_by,
        )
        return self.store.indexed.append_batch(stored, index_rows)

    def head_position(self) -> int:
        return self.store.head_position()
