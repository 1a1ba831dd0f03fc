"""Shared fixtures: every integration test runs once per backend."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from infra.settings import Settings, load_settings
from services.app import create_app
from services.bootstrap import Ledger, build_ledger
from tests.distributed import distributed_client, kafka_settings
from tests.kafka_broker import KafkaTopic, kafka_bootstrap, new_topic
from tests.services import fresh_postgres_database

# Hypothesis's default 200 ms deadline per example, and its check that
# generating examples is not too slow, are timed assertions: on a loaded
# two-core machine one slow example fails the run as "flaky" though nothing
# is wrong (speed is measured in bench/). Under CI=true Hypothesis's own
# "ci" profile is the parent (it already drops both, and derandomizes).
hypothesis_settings.register_profile(
    "mastery", hypothesis_settings.default, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("mastery")

BOOT = "test-bootstrap-token"
AUTH = {"Authorization": f"Bearer {BOOT}"}
STORES = ["sqlite", "postgres"]
BACKENDS = [*STORES, "distributed"]
STORES_ONLY = "stores_only"
# Each distributed test costs ~4-5 s more than on a store (four apps start,
# a consumer group joins): the whole suite there adds ~20 min on a quiet
# machine and ~45 under load, too near CI's 90. `make test` runs these
# modules, the path from ingest through Kafka to query, distributed;
# `make test-distributed` (MASTERY_TEST_DISTRIBUTED=all) runs every
# integration test there (docs/testing.md).
DISTRIBUTED_IN_MAKE_TEST = frozenset(
    {
        "test_write_read_path",
        "test_read_models",
        "test_contradictions",
        "test_rebuild_equals_live",
        "test_waiting_reads",
        "test_ingest_http",
        "test_ingest_batches",
        "test_authorisation_matrix",
        "test_poison",
        "test_poison_values",
        "test_ops_endpoints",
    }
)


def runs_distributed(module: str) -> bool:
    return os.environ.get("MASTERY_TEST_DISTRIBUTED") == "all" or module in DISTRIBUTED_IN_MAKE_TEST


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that uses `backend` (through `settings`, `client`, `ledger`)
    runs once per backend, but a test marked `stores_only(reason)` (it works
    one process's store: kills it, reads its files, drives its runner) runs on
    the two stores only. A test that parametrizes `backend` itself keeps its own."""
    if "backend" not in metafunc.fixturenames:
        return
    if any("backend" in str(m.args[0]) for m in metafunc.definition.iter_markers("parametrize")):
        return
    marker = metafunc.definition.get_closest_marker(STORES_ONLY)
    if marker is not None and not (marker.args and str(marker.args[0]).strip()):
        msg = f"{metafunc.definition.nodeid}: {STORES_ONLY} needs the reason it does not run distributed"
        raise pytest.UsageError(msg)
    distributed = marker is None and runs_distributed(metafunc.module.__name__.rpartition(".")[2])
    metafunc.parametrize("backend", BACKENDS if distributed else STORES)


@pytest.fixture
def backend() -> str:
    raise AssertionError("`backend` is parametrized by pytest_generate_tests")


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Settings]:
    """`distributed`: PostgreSQL and a fresh topic and group of the session's
    Kafka broker (tests/distributed.py), so its apps go through Kafka."""
    if backend == "sqlite":
        yield load_settings(data_dir=tmp_path / "data", bootstrap_token=BOOT)
        return
    distributed = backend == "distributed"
    kafka = kafka_settings(request.getfixturevalue("kafka_broker_bootstrap")) if distributed else {}
    with fresh_postgres_database() as url:
        yield load_settings(data_dir=tmp_path / "data", bootstrap_token=BOOT, database_url=url, **kafka)


@pytest.fixture
def ledger(settings: Settings) -> Iterator[Ledger]:
    built = build_ledger(settings)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def client(settings: Settings, backend: str) -> Iterator[TestClient]:
    """The whole service (role all) in process, with projections running; for
    `distributed`, writes to ingest and reads from query, the relay and a
    projection worker between them through Kafka (tests/distributed.py)."""
    started = distributed_client(settings) if backend == "distributed" else TestClient(create_app(settings))
    with started as c:
        c.headers.update(AUTH)
        yield c


@pytest.fixture(scope="session")
def kafka_broker_bootstrap() -> Iterator[str]:
    """One Kafka broker for the session (tests/kafka_broker.py says which)."""
    with kafka_bootstrap() as bootstrap:
        yield bootstrap


@pytest.fixture
def new_kafka_topic(kafka_broker_bootstrap: str) -> Callable[[int], KafkaTopic]:
    """Make a fresh topic with the given partition count, and a group of its own."""

    return functools.partial(new_topic, kafka_broker_bootstrap)


@pytest.fixture
def kafka_topic(new_kafka_topic: Callable[[int], KafkaTopic]) -> KafkaTopic:
    """A fresh three-partition topic and group for one test."""
    return new_kafka_topic(3)
