"""Write-to-readable lag through Kafka (bench/kafka_run.py, measure 1): every
role its own `mastery serve` process; a paced load on ingest while a probe
writes one event and reads it back through the query role."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.kafka_roles import (
    AUTH,
    LOAD_BATCH,
    TOKEN,
    KafkaConfig,
    head_and_position,
    kafka_env,
    role_settings,
    wait_position,
)
from bench.lag_probe import paced_load, probe_lag
from bench.postgres import fresh_database
from bench.server import serve
from infra.kafka_clients import ensure_topic
from services.bootstrap import build_ledger
from services.demo.district import District, batches
from services.demo.load import load_roster


def measure_lag(config: KafkaConfig, tmp: Path, bootstrap: str, run: str) -> dict[str, Any]:
    district = District(config.seed, max(50, int(config.rate * config.seconds) // 100), heavy_events=0)
    students = district.student_ids
    source = batches(district.events(int(config.rate * config.seconds) + 10 * LOAD_BATCH), LOAD_BATCH)
    bodies = [orjson.dumps({"events": b}) for b in source]
    with fresh_database() as url, contextlib.ExitStack() as stack:
        s = role_settings(tmp, url, bootstrap, f"bench-lag-{run}", config.partitions)
        ensure_topic(bootstrap, s.kafka_topic, s.kafka_partitions)
        with contextlib.closing(build_ledger(s)) as ledger:
            load_roster(ledger, district)
        env = kafka_env(s, f"bench-lag-{run}")
        ingest = stack.enter_context(serve(s, TOKEN, "ingest", env_more=env))
        stack.enter_context(serve(s, TOKEN, "relay", env_more=env))
        workers = [stack.enter_context(serve(s, TOKEN, "projections", env_more=env)) for _ in range(2)]
        query = stack.enter_context(serve(s, TOKEN, "query", env_more=env))
        head, _ = head_and_position(s)
        wait_position(s, head, 300)  # the roster read back before the clock starts
        _wait_both_hold_partitions(workers, 300)  # else a late join's rebalance lands in the probe
        return _probe(config, ingest, query, bodies, students)


def _wait_both_hold_partitions(workers: list[str], timeout: float) -> None:
    began = time.perf_counter()
    while not all("mastery_consumer_partition_position{" in httpx.get(f"{w}/metrics").text for w in workers):
        if time.perf_counter() - began > timeout:
            raise SystemExit(f"bench: the workers did not share the partitions within {timeout:g} s")
        time.sleep(0.2)


def _probe(
    config: KafkaConfig, ingest: str, query: str, bodies: list[bytes], students: list[str]
) -> dict[str, Any]:
    with (
        paced_load(ingest, AUTH, bodies, LOAD_BATCH, config.rate) as load,
        httpx.Client(base_url=ingest, headers=AUTH, timeout=60) as w,
        httpx.Client(base_url=query, headers=AUTH, timeout=60) as r,
    ):
        return {**probe_lag(w, r, students, config.seed + 1, config.seconds, load), "workers": 2}
