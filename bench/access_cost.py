"""(g) What recording reads in the access log costs (docs/security.md, "Access records").

Two measures, in one process, on a loaded store:

* **Reads with and without recording.** Each sampled student's
  `GET /v1/students/{id}/mastery` through the whole app (in process: FastAPI,
  the middleware, the read models), twice in a row: once with the service's
  recorder (the read queues its entry; the writer thread inserts every 0.5 s,
  meanwhile) and once with one that discards what it is given, which first
  alternating. The floor is the reads without recording; the figure is the
  median of the pairs' differences.
* **The recorder alone.** The cost of `record()` per entry on the request's
  thread, and how fast the writer empties the queue (entries/s, and the rows
  per INSERT), for a burst of entries.

`python -m bench.access_cost` loads a small district and measures only this;
`python -m bench` measures it after the other figures, on the run's store.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Iterable
from contextlib import closing
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from bench.stores import fresh_store
from bench.timing import percentiles, timed_gets
from infra.access_log import Access, AccessRecorder
from infra.settings import Settings
from infra.trust import open_trust_store
from services.app import create_app
from services.bootstrap import build_ledger
from services.demo.district import District, batches
from services.demo.load import load_roster, write_batches
from services.projections.rebuild import rebuild

TOKEN = "bench-bootstrap-token"
BURST = 20_000  # entries recorded at once for the recorder's own figures


class Discarding(AccessRecorder):
    """Records nothing: the reads' floor."""

    def record(self, entries: Iterable[Access]) -> None:
        return None


def reads(settings: Settings, students: list[str]) -> dict[str, Any]:
    """Each student's mastery read twice in a row, once recorded and once not,
    which first alternating: the machine's drift falls on both alike, and the
    difference of each pair is what recording added to that read."""
    ledger = build_ledger(settings)
    real, none = ledger.access, Discarding(ledger.trust)
    paths = [f"/v1/students/{s}/mastery" for s in students]
    recorded: list[float] = []
    discarded: list[float] = []
    with TestClient(create_app(settings, "query", ledger)) as c:
        c.headers.update({"Authorization": f"Bearer {TOKEN}"})
        timed_gets(c, paths[:20])  # warm up: connections, caches
        for i, path in enumerate(paths):
            order = [(real, recorded), (none, discarded)]
            for recorder, into in order if i % 2 == 0 else reversed(order):
                ledger.access = recorder
                into.extend(timed_gets(c, [path]))
        ledger.access = real
    added = sorted(r - d for r, d in zip(recorded, discarded, strict=True))
    return {
        "recorded": percentiles(recorded),
        "not_recorded": percentiles(discarded),
        "p50_added_ms": added[len(added) // 2] * 1000,  # the median of the pairs' differences
        "mean_added_ms": sum(added) / len(added) * 1000,
    }


def recorder(settings: Settings) -> dict[str, Any]:
    """`record()` per entry, and the writer's rate, on the run's trust store."""
    trust = open_trust_store(settings)
    rows: list[int] = []

    @event.listens_for(trust, "before_cursor_execute")
    def _count(_c: Any, _cur: Any, statement: str, parameters: Any, _ctx: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ACCESS_LOG"):
            rows.append(len(parameters) // len(Access._fields))

    try:
        rec = AccessRecorder(trust)
        endpoint = "GET /v1/students/{student_id}/mastery"
        enqueue = 0.0
        began = time.perf_counter()
        for n in range(BURST):
            t = time.perf_counter()
            rec.record([Access(datetime.now(UTC), "bench", "bench", "admin", f"s{n}", endpoint, 200)])
            enqueue += time.perf_counter() - t
        rec.flush()
        seconds = time.perf_counter() - began
        rec.close()
    finally:
        trust.dispose()
    return {
        "entries": BURST,
        "enqueue_us": enqueue / BURST * 1e6,
        "write_rate": BURST / seconds,
        "inserts": len(rows),
        "rows_per_insert": BURST / max(1, len(rows)),
    }


def measure(settings: Settings, students: list[str]) -> dict[str, Any]:
    return {**reads(settings, students), "recorder": recorder(settings)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.access_cost", description=__doc__)
    p.add_argument("--events", type=int, default=100_000)
    p.add_argument("--reads", type=int, default=1_000)
    p.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    p.add_argument("--seed", type=int, default=2026)
    args = p.parse_args(argv)
    students = max(50, args.events // 200)
    district = District(args.seed, students, heavy_events=0)
    with fresh_store(args.backend, bootstrap_token=TOKEN) as settings:
        with closing(build_ledger(settings)) as ledger:
            load_roster(ledger, district)
            source = batches(district.events(args.events), 1_000)
            write_batches(ledger, source)
            rebuild(ledger)
        rng = random.Random(args.seed)
        sample = [rng.choice(district.student_ids[:-1]) for _ in range(args.reads)]
        result = measure(settings, sample)
    r, n, rec = result["recorded"], result["not_recorded"], result["recorder"]
    print(f"access log, {args.backend}, {args.events:,} events, {args.reads:,} mastery reads in each mode:")
    print(f"  recorded      p50 {r['p50']:.2f} ms · p99 {r['p99']:.2f} ms · mean {r['mean']:.2f} ms")
    print(f"  not recorded  p50 {n['p50']:.2f} ms · p99 {n['p99']:.2f} ms · mean {n['mean']:.2f} ms")
    print(f"  added         p50 {result['p50_added_ms']:+.3f} ms · mean {result['mean_added_ms']:+.3f} ms")
    print(
        f"  recorder      record() {rec['enqueue_us']:.1f} µs/entry · writes {rec['write_rate']:,.0f}"
        f" entries/s in {rec['inserts']} INSERTs ({rec['rows_per_insert']:,.0f} rows each)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
