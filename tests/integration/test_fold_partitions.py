"""The projections are a fold of each stream, whatever the order of the
partitions (issue 12): the log cut into partitions by stream, as the relay
publishes it (with the copies and watermarks it documents), delivered in any
interleaving of per-partition batches, with redeliveries from any earlier
offset (a worker killed before committing, a rebalance), applied through the
projection workers' own transaction (services/projections/partitions.py),
gives the read models the log tailer gave; delivering everything again
changes nothing. On real PostgreSQL; the broker is not the point here
(tests/kafka/ runs the workers against one)."""

from __future__ import annotations

import random
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from infra.kafka_messages import EventRecord, Watermark
from infra.readstore import create_tables
from infra.settings import load_settings
from infra.tracking import forget_prefixed_positions, kafka_source, reached_position
from services.app import create_app
from services.bootstrap import Ledger
from services.projections.base import Projection
from services.projections.parked import forget_prefixed, parked_summary
from services.projections.partitions import Record, apply_records
from tests.conftest import AUTH, BOOT
from tests.helpers import attempt, ledger_of, post, post_random_history, projected, read_model_rows
from tests.services import fresh_postgres_database

pytestmark = pytest.mark.postgres

District = tuple[Ledger, dict[str, list[tuple[Any, ...]]], list[EventRecord]]


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Iterator[District]:
    """A district written through HTTP and projected live by the log tailer:
    a rule change part-way, classes re-rostered, students renamed."""
    data: Path = tmp_path_factory.mktemp("fold") / "data"
    with fresh_postgres_database() as url:
        s = load_settings(data_dir=data, bootstrap_token=BOOT, database_url=url)
        with TestClient(create_app(s)) as c:
            c.headers.update(AUTH)
            post_random_history(c, random.Random(7))
            rule = {"threshold": {"kind": "percent", "min": 60}, "calculation": {"method": "highest"}}
            body = {"statement": "Objective o1", "subject": "math", "course": "algebra-1", "unit": "u1"}
            r = c.put(
                "/v1/objectives/o1", json={**body, "rule": rule, "effective_from": "2026-10-10T00:00:00Z"}
            )
            assert r.status_code in (200, 201), r.text
            r = c.put(
                "/v1/classes/c1",
                json={"name": "7C", "school_id": "sch1", "teacher_ids": ["t2"], "student_ids": ["s1", "s2"]},
            )
            assert r.status_code in (200, 201), r.text
            r = c.put("/v1/students/s2", json={"name": "Renamed", "grade": "8", "school_id": "sch1"})
            assert r.status_code in (200, 201), r.text
            position = post(c, *(attempt(f"s{i}", "o1", correct=i % 11) for i in range(12)))["position"]
            ledger = ledger_of(c)
            assert projected(ledger, position)
            live = read_model_rows(ledger)
            log = ledger.store.recorder.select_notifications(1, 100_000)
            records = [
                EventRecord(n.id, UUID(str(n.originator_id)), n.originator_version, n.topic, n.state)
                for n in log
            ]
            yield ledger, live, records


def partitioned(
    records: list[EventRecord], k: int, rng: random.Random
) -> list[list[EventRecord | Watermark]]:
    """The log as the relay publishes it on `k` partitions: keyed by stream,
    in log order, a watermark to every partition now and then, and copies of
    earlier records (a re-sent batch whose first sending was stored too)."""
    parts: list[list[EventRecord | Watermark]] = [[] for _ in range(k)]
    for r in records:
        parts[zlib.crc32(r.key) % k].append(r)
        if rng.random() < 0.05:
            for part in parts:
                part.append(Watermark(r.position))
        if rng.random() < 0.03:
            part = parts[rng.randrange(k)]
            copies = part[rng.randrange(len(part)) :] if part else []
            part.extend(copies[: rng.randint(1, 5)])
    for part in parts:
        part.append(Watermark(records[-1].position))
    return parts


def shadow_rows(ledger: Ledger, shadows: list[Projection]) -> dict[str, list[tuple[Any, ...]]]:
    """The shadows' rows under the live tables' names."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with ledger.engine.connect() as conn:
        for live, s in zip(ledger.runner.projections, shadows, strict=True):
            for lt, t in zip(live.tables, s.tables, strict=True):
                out[lt.name] = [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
    return out


# No shrinking: each example builds tables on PostgreSQL, and a failing one is
# legible as it is (its draws are printed).
@settings(
    max_examples=12,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(k=st.integers(1, 4), seed=st.integers(0, 2**32 - 1), data=st.data())
def test_any_interleaving_of_partitions_and_redeliveries_folds_to_the_live_read_models(
    district: District, k: int, seed: int, data: st.DataObject
) -> None:
    ledger, live, records = district
    parts = partitioned(records, k, random.Random(seed))
    suffix = f"__f{time.time_ns()}"
    shadows: list[Projection] = [p.shadow(suffix) for p in ledger.runner.projections]
    tables = [t for s in shadows for t in s.tables]
    create_tables(ledger.engine, tables)
    try:
        sources = [kafka_source("fold", p) for p in range(k)]
        offset = [0] * k

        def deliver(p: int, start: int, n: int) -> None:
            batch: list[Record] = list(enumerate(parts[p]))[start : start + n]
            if batch:
                offset[p] = apply_records(ledger.engine, ledger.store, shadows, sources[p], batch).offset

        while pending := [p for p in range(k) if offset[p] < len(parts[p])]:
            p = data.draw(st.sampled_from(pending), label="partition")
            n = data.draw(st.integers(1, 40), label="batch")
            # A redelivery: from an offset before the recorded one (a commit that never reached Kafka).
            back = data.draw(st.integers(0, 12) | st.just(0), label="redelivered")
            deliver(p, max(0, offset[p] - back), n)

        assert shadow_rows(ledger, shadows) == live
        with ledger.engine.connect() as conn:
            names = [s.name for s in shadows]
            assert reached_position(conn, names, "kafka:") == records[-1].position
            assert set(parked_summary(conn, names).values()) == {0}

        for p in range(k):  # the whole topic again: a replayed partition changes nothing
            deliver(p, 0, len(parts[p]))
        assert shadow_rows(ledger, shadows) == live
    finally:
        with ledger.engine.begin() as conn:
            for t in tables:
                conn.exec_driver_sql(f'DROP TABLE "{t.name}"')
            for s in shadows:
                forget_prefixed_positions(conn, s.name)
                forget_prefixed(conn, s.name)
