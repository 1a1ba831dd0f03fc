"""The event store as the learning-event writer uses it (the port is
services/ingest/ports.py `LearningLog`): the heads and index rows a batch is
checked against, and one append of the batch with its index rows."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from infra.eventstore import IndexRow, LedgerStore
from infra.learning_mapper import LearningEventMapper, NewLearningEvent, Recording


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
        return self.store.indexed.append_batch(self.mapper.stored_events(events, recording), index_rows)

    def head_position(self) -> int:
        return self.store.head_position()
