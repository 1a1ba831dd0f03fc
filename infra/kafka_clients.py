"""kafka-python (3.x) clients as Mastery Ledger configures them: the settings
DESIGN.md "Kafka in tests" measured, and why each one is there.

The producer's settings keep one stream's events in order and never lose an
acknowledged one:

* `acks="all"`: acknowledged only once every in-sync replica has it.
* `enable_idempotence=False`: kafka-python 3 turns idempotence on by
  default, and Tansu's idempotent producer lost acknowledged records across
  a restart. Without it a retried batch may be stored twice: the records
  carry their stream version and consumers drop what they have applied
  (infra/kafka_messages.py).
* `max_in_flight_requests_per_connection=1`: without idempotence, a second
  request in flight may be stored before a first one that is retried, which
  would put a stream's later event before its earlier one.
* `max_block_ms`, `request_timeout_ms`: a broker that does not answer makes
  `send` and `flush` give up within seconds, so the relay can say so on
  /ready and retry with backoff, rather than block for kafka-python's 60 s.

The consumer's timeouts give a group join in 2-3 s and a takeover after a
killed member in ~5 s (kafka-python's defaults: a first join of ~23 s).
Offsets are committed by the worker after its database transaction.
"""

from __future__ import annotations

from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer  # type: ignore[import-untyped]
from kafka.admin import NewTopic  # type: ignore[import-untyped]
from kafka.errors import KafkaError, TopicAlreadyExistsError  # type: ignore[import-untyped]

__all__ = ["KafkaError", "admin", "consumer", "ensure_topic", "partitions_of", "producer"]

REQUEST_TIMEOUT_MS = 5000
# How long a send waits for the topic's metadata (a broker that does not answer).
MAX_BLOCK_MS = 5000


def producer(bootstrap: str, client_id: str = "mastery-relay") -> Any:
    """A producer; raises a KafkaError (NoBrokersAvailable) when no broker answers."""
    return KafkaProducer(
        bootstrap_servers=bootstrap.split(","),
        client_id=client_id,
        acks="all",
        enable_idempotence=False,
        max_in_flight_requests_per_connection=1,
        linger_ms=5,
        retries=5,
        retry_backoff_ms=200,
        request_timeout_ms=REQUEST_TIMEOUT_MS,
        delivery_timeout_ms=4 * REQUEST_TIMEOUT_MS,
        max_block_ms=MAX_BLOCK_MS,
        reconnect_backoff_max_ms=2000,
    )


def consumer(bootstrap: str, group: str, client_id: str = "mastery-projections", **overrides: Any) -> Any:
    """A consumer-group member that commits its offsets itself, after its transaction."""
    settings: dict[str, Any] = {
        "bootstrap_servers": bootstrap.split(","),
        "group_id": group,
        "client_id": client_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": 3000,
        "heartbeat_interval_ms": 500,
        "max_poll_interval_ms": 10000,
        "request_timeout_ms": REQUEST_TIMEOUT_MS + 1000,
        "reconnect_backoff_max_ms": 2000,
    }
    settings.update(overrides)
    return KafkaConsumer(**settings)


def admin(bootstrap: str) -> Any:
    return KafkaAdminClient(
        bootstrap_servers=bootstrap.split(","),
        client_id="mastery-admin",
        request_timeout_ms=REQUEST_TIMEOUT_MS,
    )


def ensure_topic(bootstrap: str, topic: str, partitions: int) -> bool:
    """Create `topic` with `partitions` partitions unless it exists (a broker's
    auto-creation would choose the count); whether this call created it."""
    client = admin(bootstrap)
    try:
        if topic in client.list_topics():
            return False
        try:
            client.create_topics([NewTopic(name=topic, num_partitions=partitions, replication_factor=1)])
        except TopicAlreadyExistsError:
            return False  # another process created it in between
        return True
    finally:
        client.close()


def partitions_of(kafka_producer: Any, topic: str) -> list[int]:
    """The topic's partitions, as the producer's metadata knows them."""
    return sorted(kafka_producer.partitions_for(topic))
