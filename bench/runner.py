"""One bench run: load, then measure each figure beside its floor (DESIGN.md, Performance).

Order, on one fresh store:
1. roster and the bulk of the log, in process through the event writer;
2. (a) HTTP ingest of a separate slice through a `mastery serve --role ingest`
   process, then the raw-COPY floor of the very rows that slice stored;
3. (b) projection rebuild of the whole log, then the read-and-decode floor;
   (h) `mastery verify` of the whole log, then the read of the same pages;
4. a `mastery serve` (role all) process: (c) read latencies beside a raw
   SELECT floor, (d) audit replay of the heavy student, (e) write-to-readable
   lag while a paced load writes batches of 1,000;
5. (g) in process, what recording reads in the access log costs (bench/access_cost.py).
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import random
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import orjson

from bench import access_cost
from bench.floors import copy_floor_postgres, copy_floor_sqlite, decode_floor, raw_mastery_select
from bench.lag_probe import paced_load, probe_lag
from bench.profile_put import profile_puts
from bench.server import serve
from bench.stores import fresh_store
from bench.timing import percentiles, timed_gets
from bench.verify import measure_verify
from services.bootstrap import build_ledger
from services.demo.district import District, Event, batches
from services.demo.load import load_roster, write_batches
from services.projections.rebuild import rebuild

TOKEN = "bench-bootstrap-token"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
CLASS_MAP = "/v1/classes/{class_id}/mastery-map"


@dataclass(frozen=True)
class Config:
    backend: str = "postgres"
    events: int = 1_000_000  # log size for reads and rebuild (HTTP slice included)
    http_events: int = 100_000
    students: int = 5_000
    heavy_events: int = 5_000
    seed: int = 2026
    batch: int = 1_000
    clients: int = 4
    # `mastery serve --role ingest --workers N`: ingest keeps no state, so a
    # deployment runs a process per core (DESIGN.md: ingest scales out).
    ingest_processes: int = field(default_factory=lambda: os.cpu_count() or 1)
    reads: int = 1_000
    history_reads: int = 20
    lag_seconds: float = 30.0
    # Background writes while the lag is probed, events/s. A district of
    # 100,000 students writing ten events each per school day averages about
    # 40/s over six and a half hours; end-of-period uploads peak at several
    # times that. 500/s is a heavy peak for a large district.
    lag_load: float = 500.0
    # The embedded deployment's lag is measured on a SQLite store of its own
    # (when the run is on PostgreSQL), loaded with this many events first.
    embedded_events: int = 200_000
    keep: bool = False


def _log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _partitioned(events: list[Event], config: Config) -> list[list[bytes]]:
    """One ordered list of pre-encoded batches per client, each over its own students:
    references (retake_of, on_event, target_event_id) stay within a student, so
    concurrent clients never post a reference before its target."""
    parts: list[list[Event]] = [[] for _ in range(config.clients)]
    for e in events:
        parts[zlib.crc32(e["student_id"].encode()) % config.clients].append(e)
    return [[_encode(b) for b in batches(iter(p), config.batch)] for p in parts]


def _post_all(base: str, per_client: list[list[bytes]], clients: int) -> tuple[float, int]:
    """POST pre-encoded batches from `clients` threads, each its own list in order; (seconds, stored)."""
    stored: list[int] = []
    failures: list[str] = []

    def client(work: list[bytes]) -> None:
        with httpx.Client(base_url=base, headers=AUTH, timeout=120) as c:
            for body in work:
                r = c.post("/v1/events", content=body)
                if r.status_code != 200:
                    failures.append(r.text[:500])
                    return
                stored.append(int(r.json()["stored"]))

    threads = [threading.Thread(target=client, args=(w,)) for w in per_client[:clients]]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"ingest failed: {failures[0]}")
    return seconds, sum(stored)


def _encode(batch: list[Event]) -> bytes:
    return orjson.dumps({"events": batch})


def run(config: Config, progress: Callable[[str], None] = _log) -> dict[str, Any]:
    district = District(config.seed, config.students, heavy_events=config.heavy_events)
    results: dict[str, Any] = {
        "backend": config.backend,
        "config": {k: v for k, v in config.__dict__.items() if k != "keep"},
        "generator": "services/demo/district.py",
    }
    bulk = config.events - config.http_events
    with fresh_store(config.backend, keep=config.keep, bootstrap_token=TOKEN) as settings:
        source = district.events(config.events, tail=lag_batches(config) * config.batch)  # for the lag load
        first_batches = batches(source, config.batch)

        # 1. Roster and bulk, in process.
        with contextlib.closing(build_ledger(settings)) as ledger:
            t = time.perf_counter()
            load_roster(ledger, district)
            results["roster_seconds"] = time.perf_counter() - t
            progress(f"roster: {len(district.student_ids):,} students in {results['roster_seconds']:.1f} s")
            n_batches = bulk // config.batch
            stored, secs = write_batches(ledger, (next(first_batches) for _ in range(n_batches)))
            results["bulk_in_process"] = {"events": stored, "seconds": secs, "rate": stored / secs}
            progress(f"bulk: {stored:,} events in process in {secs:.1f} s ({stored / secs:,.0f}/s)")
            before_http = ledger.store.head_position()

        # 2. (a) HTTP ingest of a separate slice, then its floor.
        slice_events = [e for _ in range(config.http_events // config.batch) for e in next(first_batches)]
        slice_ids = [e["event_id"] for e in slice_events]
        with serve(settings, TOKEN, role="ingest", workers=config.ingest_processes) as base:
            secs, stored = _post_all(base, _partitioned(slice_events, config), config.clients)
        ingest_rate = stored / secs
        progress(f"(a) HTTP ingest: {stored:,} events in {secs:.1f} s ({ingest_rate:,.0f}/s)")
        with contextlib.closing(build_ledger(settings)) as ledger:
            after_http = ledger.store.head_position()
            floor_fn = copy_floor_postgres if settings.database_url else copy_floor_sqlite
            floor = floor_fn(ledger, before_http, after_http, slice_ids)
            progress(f"(a) floor: {floor.rows:,} rows copied at {floor.rate:,.0f}/s")
            results["ingest"] = {
                "events": stored,
                "seconds": secs,
                "rate": ingest_rate,
                "clients": config.clients,
                "processes": config.ingest_processes,
                "batch": config.batch,
                "floor": "COPY" if settings.database_url else "executemany",
                "floor_rows": floor.rows,
                "floor_state_bytes": floor.state_bytes,
                "floor_rate": floor.rate,
                "floor_batched_rate": floor.batched_rate,
                "ratio": ingest_rate / floor.rate,
                "ratio_batched": ingest_rate / floor.batched_rate,
            }

            # 3. (b) Rebuild, then its floor.
            report = rebuild(ledger)
            progress(
                f"(b) rebuild: {report.events:,} entries in {report.seconds:.1f} s ({report.rate:,.0f}/s)"
            )
            n, dsecs = decode_floor(ledger)
            progress(f"(b) floor: read and decoded {n:,} entries in {dsecs:.1f} s ({n / dsecs:,.0f}/s)")
            results["rebuild"] = {
                "workers": ledger.settings.rebuild_processes(),
                "entries": report.events,
                "seconds": report.seconds,
                "rate": report.rate,
                "floor_entries": n,
                "floor_seconds": dsecs,
                "floor_rate": n / dsecs,
                "ratio": report.rate / (n / dsecs),
            }
            log_size = ledger.store.head_position()
            results["log_entries"] = log_size

            # (h) verify, the whole log, then its floor.
            results["verify"] = measure_verify(ledger)
            progress(f"(h) verify: {results['verify']}")

        # 4. Reads, replay and lag against a whole service.
        rng = random.Random(config.seed)
        students = rng.sample(district.student_ids[:-1], min(config.reads, config.students))
        with serve(settings, TOKEN, role="all") as base, httpx.Client(base_url=base, headers=AUTH) as c:
            timed_gets(c, [f"/v1/students/{s}/mastery" for s in students[:20]])  # warm up
            reads = timed_gets(c, [f"/v1/students/{s}/mastery" for s in students])
            with contextlib.closing(build_ledger(settings)) as ledger:
                floor_reads = raw_mastery_select(ledger, students)
            results["student_mastery"] = {**percentiles(reads), "floor": percentiles(floor_reads)}
            progress(f"(c) student mastery: {results['student_mastery']}")
            paths = c.get("/openapi.json").json()["paths"]
            if CLASS_MAP in paths:
                classes = [cid for cid, _, _ in district.classes()]
                sample = [rng.choice(classes) for _ in range(min(config.reads, 200))]
                timed_gets(c, [CLASS_MAP.format(class_id=k) for k in sample[:10]])
                maps = timed_gets(c, [CLASS_MAP.format(class_id=k) for k in sample])
                results["class_map"] = percentiles(maps)
            else:
                results["class_map"] = {"n": 0, "note": "GET /v1/classes/{id}/mastery-map not in this build"}
            progress(f"(c) class map: {results['class_map']}")

            history = c.get("/v1/students/heavy/history")
            heavy_events = len(history.json()["events"])
            replays = timed_gets(c, ["/v1/students/heavy/history"] * config.history_reads)
            results["audit_replay"] = {**percentiles(replays), "events": heavy_events}
            progress(f"(d) audit replay of {heavy_events:,} events: {results['audit_replay']}")

            results["profile_put"] = profile_puts(c, district)
            progress(f"(f) PUT student, with history / without: {results['profile_put']}")

            results["lag"] = _lag(c, base, first_batches, students, config)
            progress(f"(e) lag, {config.backend}, one process: {results['lag']}")
        results["access_log"] = access_cost.measure(settings, students)  # in process, the server stopped
        progress(f"(g) access log: {results['access_log']}")
    if config.backend == "sqlite":
        results["embedded_lag"] = results["lag"]
    else:
        results["embedded_lag"] = _embedded_lag(config, district, progress)
    return results


def _embedded_lag(config: Config, district: District, progress: Callable[[str], None]) -> dict[str, Any]:
    """The embedded deployment (SQLite, role all in one process): its own store
    with the same district's first events, then the lag under the same load."""
    embedded = replace(config, backend="sqlite")
    with fresh_store(embedded.backend, keep=embedded.keep, bootstrap_token=TOKEN) as settings:
        tail = lag_batches(config) * config.batch
        source = batches(district.events(config.embedded_events, tail=tail), config.batch)
        with contextlib.closing(build_ledger(settings)) as ledger:
            load_roster(ledger, district)
            write_batches(ledger, (next(source) for _ in range(config.embedded_events // config.batch)))
            rebuild(ledger)  # the read models, as a deployment would build them from an imported log
        rng = random.Random(config.seed)
        students = rng.sample(district.student_ids[:-1], min(config.reads, config.students))
        with serve(settings, TOKEN, role="all") as base, httpx.Client(base_url=base, headers=AUTH) as c:
            lag = _lag(c, base, source, students, config)
    progress(f"(e) lag, embedded, one process, {config.embedded_events:,}-event log: {lag}")
    return {**lag, "log_events": config.embedded_events}


def lag_batches(config: Config) -> int:
    """The batches the paced load behind the lag probe can post: one at the
    start, one every batch/pace seconds while the probe runs, one to spare.
    The district generates them after its measured log (its `tail`)."""
    return math.ceil(config.lag_load * config.lag_seconds / config.batch) + 2


def _lag(
    c: httpx.Client,
    base: str,
    source: Iterator[list[Event]],
    students: list[str],
    config: Config,
) -> dict[str, Any]:
    """POST one event, then read with min_position until it answers; under a paced batch load."""
    bodies = [_encode(b) for b in itertools.islice(source, lag_batches(config))]
    with paced_load(base, AUTH, bodies, config.batch, config.lag_load) as load:
        return probe_lag(c, c, students, config.seed + 1, config.lag_seconds, load)
