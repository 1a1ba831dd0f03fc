"""The relay: the PostgreSQL event log, published to Kafka (CONTRACT.md §5).

One relay publishes at a time (the advisory lock of infra/relay_log.py);
another one started by mistake waits for the lock, saying so in its log and
on /ready, and takes over if the first one's connection goes.

While it holds the lock it reads the log after its recorded position in
batches, sends each event keyed by its stream, waits until the broker has
acknowledged every record of the batch, and only then records the batch's
last position. So nothing uncommitted is published (it reads committed
rows), nothing committed is missed (positions become visible in order; see
infra/relay_log.py), and a relay that dies, or a broker that does not answer,
costs at most the re-sending of the batches it had not recorded: duplicates,
which consumers drop by stream version (infra/kafka_messages.py). A broker
that does not answer is retried with a backoff up to `MAX_BACKOFF_S`; ingest
goes on writing the log meanwhile and the relay catches up from its position.

Every `relay_watermark_seconds` (and once the log has gone idle after a
batch) it sends a watermark to every partition: "everything up to position P
has been published", which lets workers of idle partitions report progress.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from infra.kafka_clients import ensure_topic, partitions_of, producer
from infra.kafka_messages import EventRecord, Watermark
from infra.relay_log import Published, RelayLog, relay_connection
from infra.settings import Settings
from services.relay.status import RelayStatus

log = logging.getLogger(__name__)

FLUSH_TIMEOUT_S = 15.0  # a batch the broker has not acknowledged by then is sent again
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 10.0
LOCK_POLL_S = 1.0
IDLE_POLL_S = 0.05


class PublishFailed(Exception):
    """The broker did not acknowledge every record of a batch."""


class Relay:
    def __init__(
        self,
        settings: Settings,
        make_producer: Callable[[str], Any] = producer,
        status: RelayStatus | None = None,
    ) -> None:
        assert settings.database_url and settings.kafka_bootstrap, "checked by the settings"
        self.database_url = settings.database_url
        self.bootstrap = settings.kafka_bootstrap
        self.topic = settings.kafka_topic
        self.partitions = settings.kafka_partitions
        self.batch_size = settings.relay_batch_size
        self.watermark_every = settings.relay_watermark_seconds
        self.make_producer = make_producer
        self.status = status or RelayStatus()

    def run(self, stop: threading.Event) -> None:
        """Publish until `stop` is set; every failure is logged and retried."""
        backoff = FIRST_BACKOFF_S
        while not stop.is_set():
            try:
                with relay_connection(self.database_url, self.topic) as relay_log:
                    if self._wait_for_lock(relay_log, stop):
                        self._hold(relay_log, stop)
                        backoff = FIRST_BACKOFF_S
            except Exception as e:
                self.status.failed(f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e) else ''}")
                log.warning(
                    "relay: %s; starting over in %.1f s (position %d kept)",
                    self.status.problem,
                    backoff,
                    self.status.published,
                    exc_info=log.isEnabledFor(logging.DEBUG),
                )
                stop.wait(backoff)
                backoff = min(MAX_BACKOFF_S, backoff * 2)
            finally:
                self.status.holds_lock = False

    def _wait_for_lock(self, relay_log: RelayLog, stop: threading.Event) -> bool:
        said = False
        while not stop.is_set():
            if relay_log.try_lock():
                self.status.holds_lock = True
                self.status.standing_by = False
                log.info("relay: holds the publishing lock of topic %s", self.topic)
                return True
            self.status.standing_by = True
            if not said:
                log.warning(
                    "relay: another relay holds the publishing lock of topic %s; standing by until it goes",
                    self.topic,
                )
                said = True
            stop.wait(LOCK_POLL_S)
        return False

    def _hold(self, relay_log: RelayLog, stop: threading.Event) -> None:
        """Publish while the lock is held; a broker failure is retried here,
        with the lock kept, a database failure ends it (the lock may be gone)."""
        backoff = FIRST_BACKOFF_S
        while not stop.is_set():
            kafka = None
            try:
                kafka = self._connect()
                self._publish(relay_log, kafka, stop)
                return
            except PublishFailed as e:
                self.status.failed(str(e))
            except Exception as e:
                if _from_database(e):
                    raise
                self.status.failed(f"the Kafka broker does not answer ({type(e).__name__})")
            finally:
                if kafka is not None:
                    # Whatever it still holds is dropped: the batch is sent again from the recorded position.
                    kafka.close(timeout=0)
            self.status.broker_answers = False
            log.warning(
                "relay: %s; retrying in %.1f s from position %d",
                self.status.problem,
                backoff,
                self.status.published,
            )
            stop.wait(backoff)
            backoff = min(MAX_BACKOFF_S, backoff * 2)

    def _connect(self) -> Any:
        ensure_topic(self.bootstrap, self.topic, self.partitions)
        kafka = self.make_producer(self.bootstrap)
        self.status.partitions = partitions_of(kafka, self.topic)
        self.status.broker_answers = True
        return kafka

    def _publish(self, relay_log: RelayLog, kafka: Any, stop: threading.Event) -> None:
        at = relay_log.published()
        self.status.published = at.position
        self.status.problem = None
        last_watermark = 0.0
        owed = False  # a batch went out after the last watermark
        while not stop.is_set():
            batch = relay_log.after(at.position, self.batch_size)
            self.status.head = batch[-1].position if batch else relay_log.head()
            if batch:
                self._send(kafka, batch)
                upto = Published(batch[-1].position, at.epoch)
                if relay_log.record(upto):
                    at = upto
                    self.status.advanced(at.position, len(batch))
                    owed = True
                else:
                    at = relay_log.published()  # a reset: publish again from where it says
                    log.info("relay: reset; publishing again after position %d", at.position)
                    self.status.published = at.position
            due = time.monotonic() - last_watermark >= self.watermark_every
            if due or (owed and not batch):
                if due:
                    at = self._adopt_reset(relay_log, at)
                self._watermark(kafka, at.position)
                last_watermark, owed = time.monotonic(), False
            if not batch:
                stop.wait(IDLE_POLL_S)

    def _adopt_reset(self, relay_log: RelayLog, at: Published) -> Published:
        """An idle relay learns of a reset here (a busy one at its next record)."""
        now = relay_log.published()
        if now.epoch != at.epoch:
            log.info("relay: reset; publishing again after position %d", now.position)
            self.status.published = now.position
            return now
        return at

    def _send(self, kafka: Any, batch: list[EventRecord]) -> None:
        futures = [kafka.send(self.topic, value=e.state, key=e.key, headers=e.headers) for e in batch]
        self._acknowledged(kafka, futures)

    def _watermark(self, kafka: Any, position: int) -> None:
        mark = Watermark(position)
        futures = [
            kafka.send(self.topic, value=b"", headers=mark.headers, partition=p)
            for p in self.status.partitions
        ]
        self._acknowledged(kafka, futures)
        self.status.watermarked = position

    def _acknowledged(self, kafka: Any, futures: list[Any]) -> None:
        try:
            kafka.flush(timeout=FLUSH_TIMEOUT_S)
        except Exception as e:
            raise PublishFailed(f"the Kafka broker did not acknowledge within {FLUSH_TIMEOUT_S:g} s") from e
        failed = [f.exception for f in futures if not f.succeeded()]
        if failed:
            raise PublishFailed(f"the Kafka broker refused {len(failed)} records: {failed[0]!r}")


def _from_database(error: BaseException) -> bool:
    import psycopg

    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, psycopg.Error):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
