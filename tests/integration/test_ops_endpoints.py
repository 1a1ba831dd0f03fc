"""GET /health, /ready and /metrics (CONTRACT.md §2): without a token, and
telling nothing of where the stores are."""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Iterator

import psycopg
from fastapi.testclient import TestClient
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from psycopg.conninfo import conninfo_to_dict

from infra.settings import Settings
from services.bootstrap import Ledger
from services.ops import ANSWER_WITHIN, Check, Ops
from tests.helpers import attempt, ledger_of, mastery, post, projected, seed_roster
from tests.integration.poison_support import benchmark_below_the_edge
from tests.services import postgres_admin_url

NO_TOKEN = {"Authorization": ""}


def _ops(c: TestClient) -> Ops:
    ops: Ops = c.app.state.ops  # type: ignore[attr-defined]
    return ops


def _secrets(settings: Settings) -> list[str]:
    """What an unauthenticated caller must not learn: where the stores are."""
    found = [str(settings.data_dir), "sqlite", "PostgreSQL", "postgresql"]
    if settings.database_url:
        info = conninfo_to_dict(settings.database_url)
        found += [str(info.get("host", "localhost")), str(info["dbname"])]
    return found


def _leaks(text: str, settings: Settings) -> list[str]:
    return [s for s in _secrets(settings) if s in text]


def _samples(c: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    r = c.get("/metrics", headers=NO_TOKEN)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def _value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_health_says_alive_and_nothing_more_without_a_token(client: TestClient, settings: Settings) -> None:
    r = client.get("/health", headers=NO_TOKEN)
    assert r.status_code == 200 and r.json() == {"status": "alive"}
    assert client.get("/health", headers={"Authorization": "Bearer wrong"}).json() == {"status": "alive"}
    assert client.get("/healthz").status_code == 404  # the one that named the store is gone


def test_health_with_a_token_says_which_process_and_where_the_log_is(
    client: TestClient, backend: str
) -> None:
    seed_roster(client)
    out = post(client, attempt())
    body = client.get("/health").json()
    role = "query" if backend == "distributed" else "all"  # a GET goes to query there
    assert body == {"status": "alive", "role": role, "pid": os.getpid(), "position": out["position"]}


def test_ready_when_both_stores_answer(client: TestClient, settings: Settings) -> None:
    r = client.get("/ready", headers=NO_TOKEN)
    assert r.status_code == 200
    checks = ["event store", "read store", "trust store", "projections"]
    assert r.json() == {"status": "ready", "checks": checks}
    assert not _leaks(r.text, settings)


@contextlib.contextmanager
def _stores_down(settings: Settings, ledger: Ledger) -> Iterator[list[str]]:
    """Make the stores stop answering for real; yields the names /ready must give.

    PostgreSQL: the database refuses connections and loses those it had.
    SQLite: the read models' file is swapped for a directory, which no
    connection can open (its pool is emptied first)."""
    if settings.database_url:
        dbname = conninfo_to_dict(settings.database_url)["dbname"]
        with psycopg.connect(postgres_admin_url(), autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS false')
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [dbname]
            )
            try:
                yield ["event store", "read store", "trust store"]
            finally:
                admin.execute(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS true')
        return
    path, away = settings.readmodels_path, settings.readmodels_path.with_suffix(".away")
    # Moved away first, then the pool emptied: a connection the runner's tick
    # opened just before the move (to the file now at `away`) would otherwise
    # stay in the pool and answer /ready. One opened between the move and the
    # mkdir creates an empty file there: it goes too.
    path.rename(away)
    while True:
        try:
            path.mkdir()
            break
        except FileExistsError:
            path.unlink()
    ledger.engine.dispose()
    try:
        yield ["read store"]
    finally:
        shutil.rmtree(path)
        away.rename(path)


def test_ready_is_503_naming_the_store_that_does_not_answer(client: TestClient, settings: Settings) -> None:
    with _stores_down(settings, ledger_of(client)) as down:
        began = time.monotonic()
        r = client.get("/ready", headers=NO_TOKEN)
        took = time.monotonic() - began
        metrics = client.get("/metrics", headers=NO_TOKEN)
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["retry-after"]
    detail = r.json()["detail"]
    names = ("event store", "read store", "trust store")
    assert [name for name in names if f"{name} does not answer" in detail] == down
    assert took < 2 * ANSWER_WITHIN + 1  # a probe has a timeout of its own; this one answers in time
    assert not _leaks(r.text, settings)
    # /metrics still answers: latencies matter most when a store is down.
    assert metrics.status_code == 200 and "mastery_http_request_duration_seconds" in metrics.text
    deadline = time.monotonic() + 30
    while client.get("/ready").status_code != 200:  # pools find their connections gone, then reconnect
        assert time.monotonic() < deadline, "not ready again after the stores came back"
        time.sleep(0.1)


def test_events_set_aside_make_ready_503_and_are_counted(client: TestClient, settings: Settings) -> None:
    """A poison event (written below the edge, as a bug would): the projections
    go on for everyone else, /ready and /metrics say so (issue 10, No poison)."""
    ledger = ledger_of(client)
    seed_roster(client)
    benchmark_below_the_edge(ledger, "s1", 2**63, 2**63)
    assert projected(ledger, post(client, attempt())["position"], 30)
    assert ledger.runner.parked()["mastery"] == 2  # the poison, and the attempt held behind it
    r = client.get("/ready", headers=NO_TOKEN)
    assert r.status_code == 503
    assert r.json()["detail"] == (
        "not ready: projections have set events aside (mastery 2 events); "
        "`mastery projections retry` applies them after a fix"
    )
    assert not _leaks(r.text, settings)
    assert _value(_samples(client), "mastery_projection_events_set_aside", projection="mastery") == 2
    assert _value(_samples(client), "mastery_projection_events_set_aside", projection="catalog") == 0


def test_metrics_count_events_and_time_requests_by_route(client: TestClient, settings: Settings) -> None:
    seed_roster(client)
    before = _samples(client)
    batch = [attempt(correct=c) for c in (5, 9, 10)]
    out = post(client, *batch)
    again = client.post("/v1/events", json={"events": batch[:2]})
    assert again.json()["duplicates"] == 2
    mastery(client, "s1", out["position"])
    client.get("/v1/nowhere")
    after = _samples(client)

    def delta(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert delta("mastery_events_ingested_total", outcome="stored") == 3
    assert delta("mastery_events_ingested_total", outcome="duplicate") == 2
    read = {"method": "GET", "route": "/v1/students/{student_id}/mastery", "status": "200"}
    assert delta("mastery_http_request_duration_seconds_count", **read) == 1
    assert delta("mastery_http_request_duration_seconds_bucket", le="+Inf", **read) == 1
    unrouted = {"method": "GET", "route": "unrouted", "status": "404"}
    assert delta("mastery_http_request_duration_seconds_count", **unrouted) == 1
    assert _value(after, "mastery_log_head_position") == out["position"]
    for name in ("catalog", "mastery"):
        assert _value(after, "mastery_projection_position", projection=name) >= out["position"]
    assert not _leaks(client.get("/metrics", headers=NO_TOKEN).text, settings)


def test_other_parts_add_readiness_checks_and_samples(client: TestClient) -> None:
    """The hook /ready's own projections check uses: any part may add one."""
    ops = _ops(client)

    def set_aside(ledger: Ledger) -> Iterator[Metric]:
        yield GaugeMetricFamily("mastery_test_set_aside", "events set aside", value=2)

    def broken(ledger: Ledger) -> Iterator[Metric]:
        raise RuntimeError("a sampler that fails leaves the others be")
        yield  # pragma: no cover

    ops.samplers += [broken, set_aside]
    assert _value(_samples(client), "mastery_test_set_aside") == 2
    ops.checks.append(Check("warm-up", lambda ledger: "the caches are still warming up"))
    r = client.get("/ready")
    assert r.status_code == 503
    assert r.json()["detail"] == "not ready: the caches are still warming up"
