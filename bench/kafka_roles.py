"""What the Kafka bench's measures share (bench/kafka_run.py): the roles'
settings and environment, and waiting for the read models to reach a position."""

from __future__ import annotations

import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from infra.settings import Settings, load_settings
from services.bootstrap import build_ledger

TOKEN = "bench-kafka-token"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
LOAD_BATCH = 100  # events a POST of the paced load


@dataclass(frozen=True)
class KafkaConfig:
    rate: float = 500.0  # events/s posted by the paced load while the lag is probed
    seconds: float = 30.0  # how long the lag is probed
    backlog: int = 30_000  # events the workers catch up on
    partitions: int = 12
    seed: int = 2026
    bootstrap: str | None = None  # a broker to use; else Tansu started here


def role_settings(tmp: Path, url: str, bootstrap: str, topic: str, partitions: int) -> Settings:
    return load_settings(
        data_dir=tmp,
        bootstrap_token=TOKEN,
        database_url=url,
        kafka_bootstrap=bootstrap,
        kafka_topic=topic,
        kafka_partitions=partitions,
    )


def kafka_env(s: Settings, group: str) -> dict[str, str]:
    assert s.kafka_bootstrap
    return {
        "MASTERY_KAFKA_BOOTSTRAP": s.kafka_bootstrap,
        "MASTERY_KAFKA_TOPIC": s.kafka_topic,
        "MASTERY_KAFKA_PARTITIONS": str(s.kafka_partitions),
        "MASTERY_KAFKA_GROUP": group,
    }


def head_and_position(s: Settings) -> tuple[int, int]:
    with closing(build_ledger(s)) as ledger, ledger.engine.connect() as conn:
        return ledger.store.head_position(), ledger.read_position(conn)


def wait_position(s: Settings, head: int, timeout: float) -> float | None:
    """Wait until the read models reach `head`; seconds from the call until
    they had first moved (None if they were there at once)."""
    with closing(build_ledger(s)) as ledger:
        began = time.perf_counter()
        moved: float | None = None
        while True:
            with ledger.engine.connect() as conn:
                at = ledger.read_position(conn)
            if at >= head:
                return moved
            if at > 0 and moved is None:
                moved = time.perf_counter() - began
            if time.perf_counter() - began > timeout:
                raise SystemExit(f"bench: the workers did not reach position {head} within {timeout:g} s")
            time.sleep(0.05)
