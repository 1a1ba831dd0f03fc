"""`python -m bench`: every figure of DESIGN.md's Performance table, in one run, beside its floor.

`--smoke` runs tiny sizes on SQLite and PostgreSQL with no timing targets
(the test suite runs it); the full run is PostgreSQL at 1M events, then the
run through Kafka (bench/kafka_run.py: write-to-readable lag with every role
its own process, catch-up with one and two workers; `--no-kafka` skips it).
The Kafka run's smoke size has a test of its own (tests/kafka/test_kafka_bench.py).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.kafka_roles import KafkaConfig
from bench.kafka_run import describe as describe_kafka
from bench.kafka_run import run as run_kafka
from bench.report import print_table
from bench.runner import Config, run

RESULTS = Path(__file__).parent / "results"

SMOKE = Config(
    events=4_000,
    http_events=1_000,
    students=40,
    heavy_events=300,
    reads=30,
    history_reads=3,
    lag_seconds=2.0,
    embedded_events=2_000,
)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--smoke", action="store_true", help="tiny sizes, SQLite and PostgreSQL, no targets")
    p.add_argument("--events", type=int, default=1_000_000, help="log size (e.g. 10000000 for 10M)")
    p.add_argument("--http-events", type=int, default=100_000, help="the slice ingested over HTTP")
    p.add_argument("--students", type=int, default=None, help="default: one per 200 events")
    p.add_argument("--backend", choices=("postgres", "sqlite"), action="append", help="default postgres")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--lag-seconds", type=float, default=30.0)
    p.add_argument("--lag-load", type=float, default=500.0, help="events/s written while lag is probed")
    p.add_argument("--out", type=Path, default=None, help="JSON file (default bench/results/latest.json)")
    p.add_argument("--keep", action="store_true", help="keep the PostgreSQL database afterwards")
    p.add_argument("--no-kafka", action="store_true", help="skip the run through Kafka")
    p.add_argument(
        "--kafka-rate", type=float, default=500.0, help="events/s posted while Kafka lag is probed"
    )
    p.add_argument("--kafka-backlog", type=int, default=30_000, help="events the Kafka workers catch up on")
    args = p.parse_args(argv)

    if args.smoke:
        configs = [replace(SMOKE, backend=b) for b in (args.backend or ["sqlite", "postgres"])]
    else:
        base = Config(
            events=args.events,
            http_events=min(args.http_events, args.events // 2),
            students=args.students or max(50, args.events // 200),
            seed=args.seed,
            lag_seconds=args.lag_seconds,
            lag_load=args.lag_load,
            keep=args.keep,
        )
        configs = [replace(base, backend=b) for b in (args.backend or ["postgres"])]

    runs: dict[str, Any] = {}
    for config in configs:
        started = time.perf_counter()
        results = run(config)
        results["wall_seconds"] = time.perf_counter() - started
        runs[config.backend] = results
        print_table(results, f"Mastery Ledger bench: {config.backend}, {config.events:,} events")
    kafka: dict[str, Any] | None = None
    if not args.smoke and not args.no_kafka and "postgres" in runs:
        # Kafka is MASTERY_BENCH_KAFKA_BOOTSTRAP, else a Tansu broker started for the run.
        import os

        given = os.environ.get("MASTERY_BENCH_KAFKA_BOOTSTRAP")
        kafka = run_kafka(
            KafkaConfig(
                args.kafka_rate, args.lag_seconds, args.kafka_backlog, seed=args.seed, bootstrap=given
            )
        )
        print(describe_kafka(kafka))
    record = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "smoke": args.smoke,
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": _cpus()},
        "runs": runs,
        "kafka": kafka,
    }
    out = args.out or RESULTS / ("smoke.json" if args.smoke else "latest.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2, default=str))
    print(f"wrote {out}")
    return 0


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    raise SystemExit(main())
