"""What the relay tests read: the event log as PostgreSQL holds it, and the
topic as a consumer sees it (every partition from its start, no group)."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg
from kafka import KafkaConsumer, TopicPartition  # type: ignore[import-untyped]

from infra.kafka_messages import EventRecord, Watermark, decode
from infra.relay_log import EVENTS_TABLE

LogRow = tuple[int, UUID, int, str, bytes]


def log_rows(database_url: str) -> list[LogRow]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            f"SELECT notification_id, originator_id, originator_version, topic, state FROM {EVENTS_TABLE} "
            "ORDER BY notification_id"
        ).fetchall()
    return [(int(p), s, int(v), str(t), bytes(st)) for p, s, v, t, st in rows]


@dataclass
class Seen:
    """The topic as read: per partition, its records in offset order."""

    partitions: dict[int, list[EventRecord | Watermark]] = field(default_factory=lambda: defaultdict(list))

    def events(self) -> list[tuple[int, EventRecord]]:
        return [(p, r) for p, recs in self.partitions.items() for r in recs if isinstance(r, EventRecord)]

    def positions(self) -> set[int]:
        return {r.position for _, r in self.events()}

    def watermark(self, partition: int) -> int:
        marks = [r.position for r in self.partitions.get(partition, []) if isinstance(r, Watermark)]
        return max(marks, default=0)


def read_topic(bootstrap: str, topic: str, until: int, timeout: float = 60.0) -> Seen:
    """Every record of `topic` until each partition has a watermark at or past
    `until` (then every event up to it is in, by the watermark's promise)."""
    consumer: Any = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    seen = Seen()
    try:
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        assert parts, f"topic {topic} has no partitions"
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        deadline = time.monotonic() + timeout
        while min(seen.watermark(tp.partition) for tp in parts) < until:
            assert time.monotonic() < deadline, (
                f"no watermark at {until} on every partition within {timeout:g} s: "
                f"{ {tp.partition: seen.watermark(tp.partition) for tp in parts} }"
            )
            for tp, records in consumer.poll(timeout_ms=200).items():
                seen.partitions[tp.partition].extend(decode(r.headers, r.value) for r in records)
    finally:
        consumer.close()
    return seen


def check_against_log(seen: Seen, rows: list[LogRow], duplicates: bool) -> None:
    """Every logged event is on the topic as logged, each stream on one
    partition in version order; with `duplicates` False, exactly once.

    A copy (duplicates True) is allowed only as the relay documents it
    (infra/kafka_messages.py): a record whose stream version a consumer
    has already seen on the partition; once such copies are dropped, each
    stream's versions come in order with none left out."""
    logged = {r[0]: EventRecord(*r) for r in rows}
    events = seen.events()
    for _, record in events:
        assert logged.get(record.position) == record, f"position {record.position} differs from the log"
    assert seen.positions() == set(logged), (
        f"missing from the topic: {sorted(set(logged) - seen.positions())[:20]}"
    )
    if not duplicates:
        assert len(events) == len(logged), f"{len(events) - len(logged)} events published more than once"
    partition_of: dict[UUID, int] = {}
    for partition, record in events:
        assert partition_of.setdefault(record.stream, partition) == partition, (
            f"stream {record.stream} on partitions {partition_of[record.stream]} and {partition}"
        )
    for records in seen.partitions.values():
        applied: dict[UUID, int] = {}
        for r in records:
            if not isinstance(r, EventRecord) or r.version <= applied.get(r.stream, 0):
                continue  # a watermark, or a copy a consumer drops
            expected = _first_version(rows, r.stream) if r.stream not in applied else applied[r.stream] + 1
            assert r.version == expected, f"stream {r.stream}: version {r.version} where {expected} was due"
            applied[r.stream] = r.version


def check_watermarks(seen: Seen) -> None:
    """A watermark P promises every event at or below P of its partition is before it."""
    for partition, records in seen.partitions.items():
        events_here = {r.position for r in records if isinstance(r, EventRecord)}
        before: set[int] = set()
        for r in records:
            if isinstance(r, EventRecord):
                before.add(r.position)
            else:
                late = {p for p in events_here - before if p <= r.position}
                assert not late, f"partition {partition}: {sorted(late)[:5]} after watermark {r.position}"


def _first_version(rows: list[LogRow], stream: UUID) -> int:
    return min(v for _, s, v, _, _ in rows if s == stream)
