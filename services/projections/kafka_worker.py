"""A projection worker of the Kafka consumer group (`mastery serve --role
projections` with MASTERY_KAFKA_BOOTSTRAP).

Each poll's records are applied per partition in one PostgreSQL transaction
that also records the partition's position and next offset
(services/projections/partitions.py); only then is the offset committed to
Kafka. So a worker killed between the two has its batch delivered again, and
the positions drop it. On assignment (a start, a rebalance) a partition is
read from the offset recorded in PostgreSQL, not from Kafka's committed one:
the two differ by at most a batch whose commit did not reach the broker.

Before reading on, the worker reads again the record before that offset: if
it is not there, or stands for another log position, the topic is not the one
the positions were recorded from (deleted and recreated, or a broker that
lost its data). The worker says so in its log and on /ready, reads the
partition from its start, and applies nothing until it meets a record at or
below its recorded position: the log republished by `mastery relay-reset`.
From there it catches up, dropping what it has.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kafka import ConsumerRebalanceListener, OffsetAndMetadata, TopicPartition  # type: ignore[import-untyped]
from sqlalchemy import Engine

from infra.eventstore import LedgerStore
from infra.kafka_clients import consumer
from infra.kafka_messages import MalformedRecord, decode
from infra.settings import Settings
from infra.tracking import kafka_source, partition_offsets, start_sources, tracked_position
from infra.transient import is_transient
from services.projections.base import Projection
from services.projections.partitions import Record, apply_records

log = logging.getLogger(__name__)

POLL_MS = 200


@dataclass
class WorkerStatus:
    """What /ready and /metrics say of this worker."""

    assigned: list[int] = field(default_factory=list)
    behind: dict[int, str] = field(default_factory=dict)  # partition -> what was found
    positions: dict[int, int] = field(default_factory=dict)  # partition -> applied position

    def not_ready(self) -> str | None:
        if not self.behind:
            return None
        parts = ", ".join(str(p) for p in sorted(self.behind))
        return (
            f"the Kafka topic is behind the positions this worker recorded on partition(s) {parts} "
            "(deleted and recreated?); it applies nothing of them until the log is published again: "
            "run `mastery relay-reset`"
        )


@dataclass
class _Check:
    """A partition whose record at `offset` must stand for log position `last`."""

    offset: int
    last: int


@dataclass
class _Scan:
    """A partition read from its start until a record at or below `position`."""

    position: int


class KafkaWorker:
    def __init__(
        self,
        settings: Settings,
        store: LedgerStore,
        engine: Engine,
        projections: Sequence[Projection],
        make_consumer: Callable[..., Any] = consumer,
    ) -> None:
        assert settings.kafka_bootstrap, "checked by the caller"
        self.settings = settings
        self.store, self.engine, self.projections = store, engine, list(projections)
        self.names = [p.name for p in projections]
        self.topic = settings.kafka_topic
        self.make_consumer = make_consumer
        self.status = WorkerStatus()
        self.after_batch: list[Callable[[], None]] = []
        self.idle: list[Callable[[], None]] = []  # called between polls (the rule clock's tick)
        self._states: dict[int, _Check | _Scan] = {}
        self._consumer: Any = None
        self.rejoin = False  # set when taking up assigned partitions failed

    def source(self, partition: int) -> str:
        return kafka_source(self.topic, partition)

    def run(self, stop: threading.Event) -> None:
        """Consume until `stop` is set; errors are logged, the partitions
        re-read from their recorded offsets, and the loop goes on."""
        while not stop.is_set():
            try:
                self._consume(stop)
            except Exception as e:
                log.log(
                    logging.WARNING if is_transient(e) else logging.ERROR,
                    "projection worker: consuming failed; starting again in 1 s",
                    exc_info=True,
                )
                stop.wait(1.0)

    def _consume(self, stop: threading.Event) -> None:
        c = self._consumer = self.make_consumer(
            self.settings.kafka_bootstrap,
            self.settings.kafka_group,
            max_poll_records=self.settings.projection_batch_size,
        )
        try:
            c.subscribe([self.topic], listener=_Listener(self))
            while not stop.is_set():
                polled = c.poll(timeout_ms=POLL_MS)
                if self.rejoin:
                    self.rejoin = False
                    raise RuntimeError("partitions assigned but not taken up; joining again")
                failed = False
                for tp, records in sorted(polled.items(), key=lambda kv: kv[0].partition):
                    if failed:
                        c.seek(tp, records[0].offset)  # not applied: read again next time
                    else:
                        failed = not self._apply(c, tp, records)
                if failed:
                    stop.wait(1.0)
                for hook in self.idle:
                    hook()
        finally:
            self._consumer = None
            c.close(autocommit=False)

    def assigned(self, partitions: Sequence[int]) -> None:
        """Seek each partition to where PostgreSQL says it got (and check the record before)."""
        c = self._consumer
        sources = [self.source(p) for p in partitions]
        with self.engine.begin() as conn:
            start_sources(conn, self.names, sources)
            recorded = {p: partition_offsets(conn, self.names[0], self.source(p)) for p in partitions}
            positions = {p: tracked_position(conn, self.names[0], self.source(p)) for p in partitions}
        self._states = {}
        for p in partitions:
            tp = TopicPartition(self.topic, p)
            got = recorded[p]
            if got is None:
                c.seek_to_beginning(tp)
            else:
                offset, last = got
                self._states[p] = _Check(offset - 1, last)
                c.seek(tp, offset - 1)
            self.status.positions[p] = positions[p]
        self.status.assigned = sorted(partitions)
        log.info("projection worker: assigned partition(s) %s of %s", self.status.assigned, self.topic)

    def revoked(self, partitions: Sequence[int]) -> None:
        for p in partitions:
            self._states.pop(p, None)
            self.status.positions.pop(p, None)
        self.status.assigned = [p for p in self.status.assigned if p not in partitions]

    def _apply(self, c: Any, tp: Any, raw: Sequence[Any]) -> bool:
        """Apply one partition's records; False when the batch failed (to be read again)."""
        p = tp.partition
        records: list[Record] = []
        for r in raw:
            try:
                records.append((r.offset, decode(r.headers, r.value)))
            except MalformedRecord as e:
                # Not the relay's: nothing of the log is lost by passing it (the positions say so).
                log.error("projection worker: partition %d offset %d passed: %s", p, r.offset, e)
        records = self._checked(c, tp, records)
        if not records:
            return True
        try:
            applied = apply_records(self.engine, self.store, self.projections, self.source(p), records)
        except Exception as e:
            # Not an event's fault (those are set aside): a lock timeout, a
            # deadlock with another worker, a dropped connection. Read the
            # batch again after a pause, staying in the group (a rejoin costs seconds).
            log.log(
                logging.WARNING if is_transient(e) else logging.ERROR,
                "projection worker: partition %d batch failed; reading it again in a second",
                p,
                exc_info=True,
            )
            c.seek(tp, raw[0].offset)
            return False
        c.commit({tp: OffsetAndMetadata(applied.offset, "", -1)})
        self.status.positions[p] = applied.position
        for listener in self.after_batch:
            listener()
        return True

    def _checked(self, c: Any, tp: Any, records: list[Record]) -> list[Record]:
        """The records that may be applied, after the partition's check or scan."""
        p = tp.partition
        state = self._states.get(p)
        if isinstance(state, _Check) and records:
            offset, record = records[0]
            if offset == state.offset and record.position == state.last:
                del self._states[p]
                return records[1:]
            found = f"offset {offset} holds log position {record.position}"
            log.error(
                "projection worker: partition %d of %s is behind the recorded positions: expected log "
                "position %d at offset %d, but %s (topic deleted and recreated?). Applying nothing of it "
                "until the log is published again (`mastery relay-reset`)",
                p,
                self.topic,
                state.last,
                state.offset,
                found,
            )
            self.status.behind[p] = found
            with self.engine.connect() as conn:
                state = self._states[p] = _Scan(tracked_position(conn, self.names[0], self.source(p)))
            c.seek_to_beginning(tp)
            return []
        if isinstance(state, _Scan):
            for i, (offset, record) in enumerate(records):
                if record.position <= state.position:
                    log.warning(
                        "projection worker: partition %d: the log is published again (offset %d, log "
                        "position %d); catching up",
                        p,
                        offset,
                        record.position,
                    )
                    del self._states[p]
                    self.status.behind.pop(p, None)
                    return records[i:]
            return []
        return records


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, worker: KafkaWorker) -> None:
        self.worker = worker

    def on_partitions_revoked(self, revoked: Any) -> None:
        self.worker.revoked([tp.partition for tp in revoked])

    def on_partitions_assigned(self, assigned: Any) -> None:
        try:
            self.worker.assigned([tp.partition for tp in assigned])
        except Exception:
            # kafka-python would log it and read on from Kafka's offsets,
            # unchecked: the worker leaves the group and joins again instead.
            log.warning("projection worker: taking up partitions failed", exc_info=True)
            self.worker.rejoin = True

