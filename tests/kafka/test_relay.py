"""The relay in process (role `all` with MASTERY_KAFKA_BOOTSTRAP), against
real PostgreSQL and a real Kafka-protocol broker: every committed event is
published once, keyed by stream, in stream order, with watermarks that keep
their promise; and a reset publishes the log again."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from bench.ports import free_port
from infra.kafka_clients import admin
from infra.relay_log import published_of, reset
from infra.settings import Settings, load_settings
from services.app import create_app
from tests.conftest import AUTH, BOOT
from tests.helpers import attempt, post, seed_roster
from tests.kafka.relay_support import check_against_log, check_watermarks, log_rows, read_topic
from tests.services import fresh_postgres_database

pytestmark = pytest.mark.postgres
STUDENTS = tuple(f"s{i}" for i in range(12))


def _post_concurrently(c: TestClient, clients: int, batches: int) -> None:
    def write(k: int) -> None:
        for b in range(batches):
            events = [attempt(STUDENTS[(k + b + i) % len(STUDENTS)], correct=(b + i) % 11) for i in range(7)]
            post(c, *events)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _wait_published(settings: Settings, position: int, client: TestClient) -> None:
    assert settings.database_url is not None
    for _ in range(600):
        done = published_of(settings.database_url, settings.kafka_topic)
        if done is not None and done.position >= position:
            return
        threading.Event().wait(0.05)
    ready = client.get("/ready").text
    raise AssertionError(f"the relay did not publish up to {position}: /ready says {ready}")


def test_every_committed_event_is_published_once_in_stream_order(kafka_settings: Settings) -> None:
    assert kafka_settings.database_url is not None
    with TestClient(create_app(kafka_settings, "all")) as c:
        c.headers.update(AUTH)
        seed_roster(c, STUDENTS)
        _post_concurrently(c, clients=4, batches=15)
        rows = log_rows(kafka_settings.database_url)
        _wait_published(kafka_settings, rows[-1][0], c)
        ready = c.get("/ready")
        assert ready.status_code == 200 and "relay" in ready.json()["checks"], ready.text
        metrics = c.get("/metrics").text
        assert "mastery_relay_lag_events 0.0" in metrics, metrics
        assert "mastery_relay_holds_lock 1.0" in metrics
    seen = read_topic(kafka_settings.kafka_bootstrap or "", kafka_settings.kafka_topic, rows[-1][0])
    check_against_log(seen, rows, duplicates=False)
    check_watermarks(seen)
    assert len({r.stream for _, r in seen.events()}) > 12  # students, objectives, school, class


def test_a_reset_publishes_the_log_again_from_the_chosen_position(kafka_settings: Settings) -> None:
    assert kafka_settings.database_url is not None
    with TestClient(create_app(kafka_settings, "all")) as c:
        c.headers.update(AUTH)
        seed_roster(c, STUDENTS[:3])
        post(c, *[attempt(s) for s in STUDENTS[:3]])
        rows = log_rows(kafka_settings.database_url)
        head = rows[-1][0]
        _wait_published(kafka_settings, head, c)
        again_from = rows[len(rows) // 2][0]
        reset(kafka_settings.database_url, kafka_settings.kafka_topic, again_from - 1)
        post(c, attempt(STUDENTS[0]))
        rows = log_rows(kafka_settings.database_url)
        _wait_published(kafka_settings, rows[-1][0], c)
    seen = read_topic(kafka_settings.kafka_bootstrap or "", kafka_settings.kafka_topic, rows[-1][0])
    check_against_log(seen, rows, duplicates=True)
    counts = {p: 0 for p in seen.positions()}
    for _, r in seen.events():
        counts[r.position] += 1
    assert all(counts[p] == 1 for p, *_ in rows if p < again_from)
    assert all(counts[p] == 2 for p, *_ in rows if again_from <= p <= head)
    # One written during the reset may go out before the relay sees it, and again after.
    assert all(counts[p] in (1, 2) for p, *_ in rows if p > head)


def test_without_kafka_role_all_runs_no_relay(tmp_path: Path) -> None:
    with fresh_postgres_database() as url:
        settings = load_settings(data_dir=tmp_path, bootstrap_token=BOOT, database_url=url)
        with TestClient(create_app(settings, "all")) as c:
            assert "relay" not in c.get("/ready").json()["checks"]
            assert "mastery_relay" not in c.get("/metrics").text
        assert published_of(url, settings.kafka_topic) is None


def test_with_no_broker_ingest_answers_and_the_relay_says_why_it_lags(tmp_path: Path) -> None:
    """A broker that is not there is not bad configuration (it may come up
    later): the process serves, ingest stores, /ready and /metrics say so."""
    nobody = f"127.0.0.1:{free_port()}"
    with fresh_postgres_database() as url:
        settings = load_settings(
            data_dir=tmp_path, bootstrap_token=BOOT, database_url=url, kafka_bootstrap=nobody
        )
        with TestClient(create_app(settings, "all")) as c:
            c.headers.update(AUTH)
            # Nothing reaches the read models without a broker: do not wait for them.
            seed_roster(c, STUDENTS[:2], wait=False)
            post(c, attempt(STUDENTS[0]), attempt(STUDENTS[1]))
            head = log_rows(url)[-1][0]

            def lagging() -> bool:
                ready = c.get("/ready")
                return (
                    ready.status_code == 503 and "the Kafka broker does not answer" in ready.json()["detail"]
                )

            for _ in range(200):
                if lagging():
                    break
                threading.Event().wait(0.05)
            assert lagging(), c.get("/ready").text
            metrics = c.get("/metrics").text
            assert f"mastery_relay_lag_events {float(head)}" in metrics, metrics
            assert "mastery_relay_broker_up 0.0" in metrics


def test_an_uncommitted_write_is_not_published_and_its_rollback_leaves_a_hole_passed_over(
    kafka_settings: Settings,
) -> None:
    """A write in flight holds positions the relay must not publish (nor
    skip, had it committed); rolled back, it leaves a hole in the positions
    that the relay passes over."""
    url = kafka_settings.database_url
    assert url is not None
    with TestClient(create_app(kafka_settings, "all")) as c:
        c.headers.update(AUTH)
        seed_roster(c, STUDENTS[:2])
        _wait_published(kafka_settings, log_rows(url)[-1][0], c)
        with psycopg.connect(url) as writer:
            # As the event store writes: under the log's lock, held until the transaction ends.
            writer.execute("LOCK TABLE masteryledger_events IN EXCLUSIVE MODE")
            row = writer.execute(
                "INSERT INTO masteryledger_events (originator_id, originator_version, topic, state) "
                "VALUES (%s, 1, 'never:Committed', '{}') RETURNING notification_id",
                [uuid.uuid4()],
            ).fetchone()
            assert row is not None
            in_flight = int(row[0])
            threading.Event().wait(1.0)  # the relay polls every 50 ms
            done = published_of(url, kafka_settings.kafka_topic)
            assert done is not None and done.position < in_flight
            writer.rollback()
        post(c, attempt(STUDENTS[0]), attempt(STUDENTS[1]))
        rows = log_rows(url)
        assert rows[-1][0] > in_flight and in_flight not in {r[0] for r in rows}
        _wait_published(kafka_settings, rows[-1][0], c)
    seen = read_topic(kafka_settings.kafka_bootstrap or "", kafka_settings.kafka_topic, rows[-1][0])
    check_against_log(seen, rows, duplicates=False)
    assert in_flight not in seen.positions()


def test_a_relay_that_creates_its_topic_again_publishes_the_whole_log_again(kafka_settings: Settings) -> None:
    """The topic was deleted while no relay ran: the relay that finds it
    missing creates it, and publishes from the start rather than from a
    position whose events went with the old topic."""
    url = kafka_settings.database_url
    assert url is not None and kafka_settings.kafka_bootstrap is not None
    with TestClient(create_app(kafka_settings, "all")) as c:
        c.headers.update(AUTH)
        seed_roster(c, STUDENTS[:2])
        post(c, attempt(STUDENTS[0]))
        _wait_published(kafka_settings, log_rows(url)[-1][0], c)
    client = admin(kafka_settings.kafka_bootstrap)
    try:
        client.delete_topics([kafka_settings.kafka_topic])
    finally:
        client.close()
    with TestClient(create_app(kafka_settings, "all")) as c:
        c.headers.update(AUTH)
        post(c, attempt(STUDENTS[1]))
        rows = log_rows(url)
        _wait_published(kafka_settings, rows[-1][0], c)
    done = published_of(url, kafka_settings.kafka_topic)
    assert done is not None and done.epoch == 1  # it restarted from 0 once
    seen = read_topic(kafka_settings.kafka_bootstrap, kafka_settings.kafka_topic, rows[-1][0])
    check_against_log(seen, rows, duplicates=False)
