"""A batch of one Kafka partition's records, applied as one transaction.

The fold behind the projection workers (services/projections/kafka_worker.py),
free of any Kafka client so it can be driven by tests through every
interleaving of partitions and redeliveries. Per partition the tracking row
holds the log position up to which the partition has been applied (the
highest event applied or watermark read: the relay publishes a partition in
log order, so every event of it at or below that position is applied). A
record at or below the highest position seen is a copy (a redelivery, a
re-sent relay batch, a republished log) and is dropped; the rows' stream
versions drop whatever still comes twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from infra.eventstore import LedgerStore
from infra.kafka_messages import EventRecord, Watermark
from infra.tracking import lock_sources, record_partition
from services.projections.base import Projection
from services.projections.batch import apply_batch

Record = tuple[int, EventRecord | Watermark]  # (offset, what the record says)


@dataclass(frozen=True)
class Applied:
    position: int  # the partition's position after the batch (the lowest over projections)
    offset: int  # the next offset to read
    events: int  # events applied (copies not counted)


def position_of(record: EventRecord | Watermark) -> int:
    return record.position


def apply_records(
    engine: Engine,
    store: LedgerStore,
    projections: Sequence[Projection],
    source: str,
    records: Sequence[Record],
) -> Applied:
    """Apply `records` (offset order) of partition `source` and record how far
    it got, in one transaction. The caller commits its Kafka offset after."""
    names = [p.name for p in projections]
    with engine.begin() as conn:
        locked = lock_sources(conn, names, [source])
        positions = {n: locked[(n, source)] for n in names}
        seen = min(positions.values())
        fresh: list[EventRecord] = []
        top = seen
        for _offset, record in records:
            if isinstance(record, EventRecord) and record.position > top:
                fresh.append(record)
            top = max(top, record.position)
        apply_batch(conn, store, projections, [r.notification() for r in fresh], positions)
        offset = records[-1][0] + 1
        last = records[-1][1].position
        for n in names:
            record_partition(conn, [n], source, max(positions[n], top), offset, last)
    return Applied(min(max(p, top) for p in positions.values()), offset, len(fresh))
