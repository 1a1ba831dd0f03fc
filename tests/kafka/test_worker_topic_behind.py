"""A worker whose topic is behind its recorded positions (the topic deleted
and recreated) says so in its log and on /ready instead of silently
skipping; `relay-reset` republishes the log and the worker catches up, with
nothing missing or counted twice (issue 12 item 3). Role `all` in process,
real PostgreSQL, a real Kafka-protocol broker."""

from __future__ import annotations

import logging
import time

import pytest
from fastapi.testclient import TestClient
from kafka import KafkaAdminClient  # type: ignore[import-untyped]
from sqlalchemy import func, select

from infra.readmodels import learning_records
from infra.relay_log import published_of, reset
from infra.settings import Settings
from services.app import create_app
from tests.conftest import AUTH
from tests.helpers import attempt, ledger_of, post, seed_roster
from tests.kafka_broker import KafkaTopic, create_topic

pytestmark = pytest.mark.postgres
STUDENTS = ("s1", "s2", "s3", "s4")


def _read_at(c: TestClient, position: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = c.get("/v1/students/s1/mastery", params={"min_position": position})
        if r.status_code == 200:
            return
        time.sleep(0.1)
    raise AssertionError(f"reads did not reach {position}: /ready {c.get('/ready').text}")


def _recreate(topic: KafkaTopic) -> None:
    admin = KafkaAdminClient(bootstrap_servers=topic.bootstrap, client_id="mastery-tests")
    try:
        admin.delete_topics([topic.name])
    finally:
        admin.close()
    time.sleep(1.0)
    create_topic(topic.bootstrap, topic.name, topic.partitions)


def test_a_recreated_topic_is_reported_not_skipped_and_a_relay_reset_catches_up(
    kafka_settings: Settings, kafka_topic: KafkaTopic, caplog: pytest.LogCaptureFixture
) -> None:
    assert kafka_settings.database_url is not None
    with TestClient(create_app(kafka_settings, "all")) as c:
        c.headers.update(AUTH)
        seed_roster(c, STUDENTS)
        for _ in range(5):
            position = post(c, *[attempt(s) for s in STUDENTS for _ in range(5)])["position"]
        _read_at(c, position)
    # The relay publishes more while no worker runs: the old topic holds events no worker applied.
    with (
        TestClient(create_app(kafka_settings, "ingest")) as i,
        TestClient(create_app(kafka_settings, "relay")),
    ):
        i.headers.update(AUTH)
        for _ in range(4):
            unapplied = post(i, *[attempt(s) for s in STUDENTS for _ in range(5)])["position"]
        while (done := published_of(kafka_settings.database_url, kafka_settings.kafka_topic)) is None or (
            done.position < unapplied
        ):
            time.sleep(0.05)
    _recreate(kafka_topic)
    with caplog.at_level(logging.ERROR), TestClient(create_app(kafka_settings, "all")) as c:
        c.headers.update(AUTH)
        # New events go to the new topic; the relay goes on from where it got.
        for _ in range(8):
            after = post(c, *[attempt(s) for s in STUDENTS for _ in range(5)])["position"]
        deadline = time.monotonic() + 60
        while "behind" not in (ready := c.get("/ready")).text:
            assert time.monotonic() < deadline, f"/ready never said the topic is behind: {ready.text}"
            time.sleep(0.2)
        assert ready.status_code == 503, ready.text
        assert any("behind the recorded positions" in r.getMessage() for r in caplog.records)
        # Nothing of the new topic applied over the hole the old topic's last events left.
        assert c.get("/v1/students/s1/mastery", params={"min_position": after}).status_code == 503

        reset(kafka_settings.database_url, kafka_settings.kafka_topic, 0)
        _read_at(c, after, timeout=90)
        assert c.get("/ready").status_code == 200, c.get("/ready").text
        with ledger_of(c).engine.connect() as conn:
            count = conn.execute(select(func.count()).select_from(learning_records)).scalar()
        assert count == 17 * 5 * len(STUDENTS)
