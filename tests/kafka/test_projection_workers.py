"""Projection workers of one consumer group, as separate `mastery serve`
processes against real PostgreSQL and a real Kafka-protocol broker (issue 12
item 3): two workers share the partitions; one is SIGKILLed mid-stream and
the other takes its partitions over; at the end every read model equals a
rebuild from the log and no event is missing or counted twice."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from infra.readmodels import learning_records
from infra.settings import load_settings
from services.bootstrap import build_ledger
from services.projections.rebuild import rebuild
from tests.e2e.serve_process import TOKEN, Server
from tests.helpers import attempt, read_model_rows
from tests.kafka_broker import KafkaTopic
from tests.services import fresh_postgres_database

pytestmark = pytest.mark.postgres
STUDENTS = tuple(f"s{i}" for i in range(16))


@pytest.fixture
def kafka_env(kafka_topic: KafkaTopic) -> Iterator[dict[str, str]]:
    with fresh_postgres_database() as url:
        yield {
            "MASTERY_BOOTSTRAP_TOKEN": TOKEN,
            "MASTERY_DATABASE_URL": url,
            "MASTERY_KAFKA_BOOTSTRAP": kafka_topic.bootstrap,
            "MASTERY_KAFKA_TOPIC": kafka_topic.name,
            "MASTERY_KAFKA_PARTITIONS": str(kafka_topic.partitions),
            "MASTERY_KAFKA_GROUP": kafka_topic.group,
            "MASTERY_RELAY_WATERMARK_SECONDS": "0.2",
            "MASTERY_PROJECTION_BATCH_SIZE": "50",  # many batches: a kill lands mid-stream
        }


def _env(kafka_env: dict[str, str]) -> dict[str, str]:
    import os

    return {**{k: v for k, v in os.environ.items() if not k.startswith("MASTERY_")}, **kafka_env}


def _seed(c: httpx.Client) -> None:
    assert c.put("/v1/schools/sch1", json={"name": "Lincoln"}).status_code in (200, 201)
    for s in STUDENTS:
        r = c.put(f"/v1/students/{s}", json={"name": s, "grade": "7", "school_id": "sch1"})
        assert r.status_code in (200, 201), r.text
    for o in ("o1", "o2", "o3"):
        body = {
            "statement": o,
            "subject": "math",
            "course": "a1",
            "unit": "u1",
            "rule": {"threshold": {"kind": "percent", "min": 70}, "calculation": {"method": "average"}},
            "effective_from": "2026-08-01T00:00:00Z",
        }
        assert c.put(f"/v1/objectives/{o}", json=body).status_code in (200, 201)


def _held_partitions(base: str) -> set[str]:
    text = httpx.get(f"{base}/metrics", timeout=10).text
    return set(re.findall(r'mastery_consumer_partition_position\{partition="(\d+)"\}', text))


def _lags(base: str) -> list[float]:
    text = httpx.get(f"{base}/metrics", timeout=10).text
    return [float(v) for v in re.findall(r'mastery_consumer_lag_positions\{partition="\d+"\} (\S+)', text)]


def _wait(what: str, check: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout:g} s: {what}")


def test_two_workers_share_partitions_one_killed_the_other_takes_over(
    kafka_env: dict[str, str], tmp_path: Path
) -> None:
    env = _env(kafka_env)
    main = Server(env, tmp_path / "data")  # role all: ingest, relay, one worker, query
    second = Server(env, tmp_path / "data")
    second.log = tmp_path / "second.log"
    try:
        c = main.start()
        second.start("--role", "projections")
        _seed(c)
        # Both members hold partitions once the group has settled.
        _wait(
            "both workers hold partitions",
            lambda: _held_partitions(main.base) and _held_partitions(second.base),
        )
        rng = random.Random(5)
        posted = 0
        last = 0
        for batch in range(40):
            events = [
                attempt(rng.choice(STUDENTS), rng.choice(("o1", "o2", "o3")), correct=rng.randrange(11))
                for _ in range(25)
            ]
            r = c.post("/v1/events", json={"events": events})
            assert r.status_code == 200, r.text
            posted += len(events)
            last = r.json()["position"]
            if batch == 15:
                second.kill()  # mid-stream: its last batch may be applied and not committed to Kafka
        # The survivor takes every partition over and catches up.
        r = _wait(
            "reads reflect the last position",
            lambda: (
                resp
                if (resp := c.get("/v1/students/s1/mastery", params={"min_position": last})).status_code
                == 200
                else None
            ),
            timeout=90,
        )
        assert int(r.headers["X-Projection-Position"]) >= last
        partitions = int(kafka_env["MASTERY_KAFKA_PARTITIONS"])
        assert len(_held_partitions(main.base)) == partitions
        assert c.get("/ready").status_code == 200, c.get("/ready").text
        # Lag per partition, from log positions: none once the relay's watermarks reach the head.
        _wait("no consumer lag on any partition", lambda: _lags(main.base) == [0.0] * partitions)

        settings = load_settings(
            data_dir=tmp_path / "data",
            bootstrap_token=TOKEN,
            database_url=kafka_env["MASTERY_DATABASE_URL"],
            kafka_bootstrap=kafka_env["MASTERY_KAFKA_BOOTSTRAP"],
            kafka_topic=kafka_env["MASTERY_KAFKA_TOPIC"],
        )
        with closing(build_ledger(settings)) as ledger:
            with ledger.engine.connect() as conn:
                assert ledger.read_position(conn) >= last
                # Every attempt once: none missing, none counted twice.
                assert conn.execute(select(func.count()).select_from(learning_records)).scalar() == posted
            live = read_model_rows(ledger)
            rebuild(ledger, workers=1)
            assert read_model_rows(ledger) == live
    finally:
        second.stop()
        main.stop()
