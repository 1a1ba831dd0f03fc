"""Catch-up without a rebuild through Kafka (bench/kafka_run.py, measure 2):
a backlog already on the topic, then one or two projection workers started."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from bench.kafka_roles import TOKEN, KafkaConfig, head_and_position, kafka_env, role_settings, wait_position
from bench.postgres import admin_url, fresh_database
from bench.relay_rate import load, relay
from bench.server import serve
from infra.pgadmin import with_database
from infra.settings import Settings
from services.bootstrap import build_ledger
from services.projections.rebuild import rebuild


def _copy_database(url: str) -> str:
    """A copy of `url`'s database (its log, nothing projected yet) to catch up on again."""
    source = str(psycopg.conninfo.conninfo_to_dict(url)["dbname"])
    name = f"{source}_copy"
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [source],
        )
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(source))
        )
    return with_database(url, name)


def _drop(url: str) -> None:
    name = str(psycopg.conninfo.conninfo_to_dict(url)["dbname"])
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _catch_up(s: Settings, workers: int, head: int, group: str) -> tuple[float, float]:
    """Seconds from launching the workers until caught up, and from the
    read models' first move until caught up (without starting and joining)."""
    with contextlib.ExitStack() as stack:
        began = time.perf_counter()
        for _ in range(workers):
            stack.enter_context(serve(s, TOKEN, "projections", env_more=kafka_env(s, group)))
        waited = time.perf_counter()
        moved = wait_position(s, head, 3600)
        done = time.perf_counter()
        return done - began, done - (waited + moved if moved is not None else began)


def measure_catch_up(config: KafkaConfig, tmp: Path, bootstrap: str, run: str) -> dict[str, Any]:
    with fresh_database() as url:
        s = role_settings(tmp, url, bootstrap, f"bench-backlog-{run}", config.partitions)
        head = load(s, config.backlog, config.seed)
        relay(s, head)  # the whole backlog on the topic before any worker starts
        assert head_and_position(s) == (head, 0), "read models projected before the workers started"
        copy = _copy_database(url)
        try:
            one, one_moving = _catch_up(s, 1, head, f"bench-one-{run}")
            two, two_moving = _catch_up(
                s.model_copy(update={"database_url": copy}), 2, head, f"bench-two-{run}"
            )
        finally:
            _drop(copy)
        with contextlib.closing(build_ledger(s)) as ledger:
            began = time.perf_counter()
            rebuild(ledger, workers=1)
            floor = time.perf_counter() - began
    return {
        "log_entries": head,
        "partitions": config.partitions,
        "one_worker_events_per_s": head / one,
        "two_workers_events_per_s": head / two,
        "one_worker_seconds": one,
        "two_workers_seconds": two,
        # From the read models' first move: what applying costs, without starting and joining.
        "one_worker_applying_seconds": one_moving,
        "two_workers_applying_seconds": two_moving,
        "floor_rebuild_events_per_s": head / floor,
        "ratio_one_worker": floor / one,
        "ratio_two_workers": floor / two,
    }
