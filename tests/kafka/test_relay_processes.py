"""The relay as its own process, under failure (issue 12): killed with
SIGKILL and restarted, a broker that stops answering (SIGSTOP) while ingest
goes on, and two relays started by mistake. Real PostgreSQL, a real
Kafka-protocol broker, ingest and relay as `mastery serve` processes.

Duplicates are allowed only as infra/kafka_messages.py documents them: a
batch the relay had sent but not recorded is sent again, so a kill or a
broker outage may repeat at most the batches in flight (MASTERY_RELAY_BATCH_SIZE
events each); never a missing event, never a stream out of order."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.relay_log import published_of
from tests.helpers import RULE_9_OF_10, attempt
from tests.kafka.processes import Role, role_env, wait_until
from tests.kafka.relay_support import check_against_log, check_watermarks, log_rows, read_topic
from tests.kafka_broker import create_topic, tansu_broker, unique_name
from tests.services import fresh_postgres_database

pytestmark = pytest.mark.postgres
BATCH = 40  # MASTERY_RELAY_BATCH_SIZE: many batches, so a kill lands in the middle of publishing
STUDENTS = [f"s{i}" for i in range(20)]


class Writer(threading.Thread):
    """Posts `batches` batches of attempts to ingest, and goes on until
    `until` is set, if given; every answer must be 200."""

    def __init__(
        self, ingest: Role, batches: int, size: int = 10, until: threading.Event | None = None
    ) -> None:
        super().__init__(daemon=True)
        self.ingest, self.batches, self.size = ingest, batches, size
        self.until = until
        self.statuses: Counter[int] = Counter()
        self.posted = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with self.ingest.client() as c:
                b = 0
                while b < self.batches or (self.until is not None and not self.until.is_set()):
                    b += 1
                    students = [STUDENTS[(b + i) % len(STUDENTS)] for i in range(self.size)]
                    events = [attempt(s, correct=b % 11) for s in students]
                    r = c.post("/v1/events", json={"events": events})
                    self.statuses[r.status_code] += 1
                    self.posted += 1
        except BaseException as e:
            self.error = e


def seed(c: httpx.Client) -> None:
    assert c.put("/v1/schools/sch1", json={"name": "Lincoln"}).status_code in (200, 201)
    for s in STUDENTS:
        r = c.put(f"/v1/students/{s}", json={"name": s, "grade": "7", "school_id": "sch1"})
        assert r.status_code in (200, 201), r.text
    body = {"statement": "o1", "subject": "math", "course": "a1", "unit": "u1", "rule": RULE_9_OF_10}
    assert c.put("/v1/objectives/o1", json=body).status_code in (200, 201)


class Deployment:
    def __init__(self, url: str, bootstrap: str, tmp: Path, partitions: int = 3) -> None:
        self.url, self.bootstrap = url, bootstrap
        self.topic = unique_name("mastery-relay")
        create_topic(bootstrap, self.topic, partitions)
        env = role_env(url, bootstrap, self.topic, partitions, MASTERY_RELAY_BATCH_SIZE=str(BATCH))
        self.env, self.tmp = env, tmp
        self.roles: list[Role] = []

    def role(self, name: str) -> Role:
        r = Role(name, self.env, self.tmp)
        self.roles.append(r)
        return r

    def published(self) -> int:
        done = published_of(self.url, self.topic)
        return 0 if done is None else done.position

    def head(self) -> int:
        rows = log_rows(self.url)
        return rows[-1][0] if rows else 0

    def caught_up(self, timeout: float = 90.0) -> list[Any]:
        rows = log_rows(self.url)
        wait_until(f"relay published up to {rows[-1][0]}", lambda: self.published() >= rows[-1][0], timeout)
        return rows

    def stop(self) -> None:
        for r in self.roles:
            r.stop()


@pytest.fixture
def deploy(kafka_broker_bootstrap: str, tmp_path: Path) -> Iterator[Deployment]:
    with fresh_postgres_database() as url:
        d = Deployment(url, kafka_broker_bootstrap, tmp_path)
        try:
            yield d
        finally:
            d.stop()


def _logged(role: Role, words: str) -> bool:
    return any(words in line["message"] for line in role.log_lines())


def _finish(writer: Writer) -> None:
    writer.join(120)
    assert not writer.is_alive() and writer.error is None, writer.error
    assert writer.statuses == Counter({200: writer.posted}), writer.statuses


def test_a_killed_relay_restarts_where_it_had_recorded(deploy: Deployment) -> None:
    ingest = deploy.role("ingest").start()
    relay = deploy.role("relay").start(wait_ready=True)
    with ingest.client() as c:
        seed(c)
    writer = Writer(ingest, batches=120)
    writer.start()
    kills = 0
    for _ in range(2):
        # Kill it while it is publishing: somewhere past where it started, short of the head.
        start = deploy.published()
        wait_until("the relay publishing", lambda s=start: deploy.published() > s + BATCH)
        relay.kill()
        kills += 1
        relay.start()
    _finish(writer)
    rows = deploy.caught_up()
    seen = read_topic(deploy.bootstrap, deploy.topic, rows[-1][0])
    check_against_log(seen, rows, duplicates=True)
    check_watermarks(seen)
    copies = len(seen.events()) - len(rows)
    assert 0 <= copies <= kills * BATCH, f"{copies} events sent twice for {kills} kills"


def test_ingest_answers_while_the_broker_is_stopped_and_the_relay_catches_up(
    tmp_path: Path,
) -> None:
    with fresh_postgres_database() as url, tansu_broker() as broker:
        deploy = Deployment(url, broker.bootstrap, tmp_path)
        try:
            ingest = deploy.role("ingest").start()
            relay = deploy.role("relay").start(wait_ready=True)
            with ingest.client() as c:
                seed(c)
            done = threading.Event()
            writer = Writer(ingest, batches=50, until=done)
            writer.start()
            wait_until("the relay publishing", lambda: deploy.published() > BATCH)
            broker.pause()
            try:
                stalled = deploy.published()
                wait_until("ingest writing on", lambda: deploy.head() > stalled + 200, timeout=60)
                wait_until(
                    "the relay's /ready saying the broker does not answer",
                    lambda: relay.ready().status_code == 503,
                    timeout=40,
                )
                assert "Kafka broker does not answer" in relay.ready().json()["detail"]
                # Until the relay has given the batch up and tried again (the retry path).
                wait_until("the relay retrying", lambda: _logged(relay, "retrying"), timeout=60)
                assert deploy.published() <= deploy.head()
                during = writer.posted
            finally:
                broker.resume()
            wait_until("ingest writing on after the broker is back", lambda: writer.posted > during + 20)
            done.set()
            _finish(writer)
            rows = deploy.caught_up()
            wait_until("the relay ready again", lambda: relay.ready().status_code == 200)
            seen = read_topic(deploy.bootstrap, deploy.topic, rows[-1][0])
            check_against_log(seen, rows, duplicates=True)
            check_watermarks(seen)
        finally:
            deploy.stop()


def test_of_two_relays_one_publishes_and_the_other_takes_over_when_it_dies(deploy: Deployment) -> None:
    ingest = deploy.role("ingest").start()
    first = deploy.role("relay").start(wait_ready=True)
    second = deploy.role("relay").start()
    wait_until("the second relay standing by", lambda: second.ready().status_code == 503)
    standby = second.ready()
    assert "another relay holds the publishing lock" in standby.json()["detail"], standby.text
    assert any("standing by" in line["message"] for line in second.log_lines()), second.tail()
    with ingest.client() as c:
        seed(c)
    writer = Writer(ingest, batches=40)
    writer.start()
    _finish(writer)
    rows = deploy.caught_up()
    seen = read_topic(deploy.bootstrap, deploy.topic, rows[-1][0])
    check_against_log(seen, rows, duplicates=False)  # one relay published: each event once
    assert second.ready().status_code == 503 and first.ready().status_code == 200
    first.kill()
    wait_until("the second relay taking over", lambda: second.ready().status_code == 200, timeout=30)
    writer = Writer(ingest, batches=20)
    writer.start()
    _finish(writer)
    rows = deploy.caught_up()
    seen = read_topic(deploy.bootstrap, deploy.topic, rows[-1][0])
    check_against_log(seen, rows, duplicates=True)
    assert len(seen.events()) - len(rows) <= BATCH
