"""What the Kafka tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.settings import Settings, load_settings
from tests.conftest import BOOT
from tests.kafka_broker import KafkaTopic
from tests.services import fresh_postgres_database


@pytest.fixture
def kafka_settings(kafka_topic: KafkaTopic, tmp_path: Path) -> Iterator[Settings]:
    """A fresh PostgreSQL database, topic and group; the relay publishes in
    small batches (so records and watermarks interleave) and watermarks every
    0.2 s (so an idle partition's position moves soon)."""
    with fresh_postgres_database() as url:
        yield load_settings(
            data_dir=tmp_path / "data",
            bootstrap_token=BOOT,
            database_url=url,
            relay_batch_size=50,
            relay_watermark_seconds=0.2,
            **kafka_topic.settings(),
        )
