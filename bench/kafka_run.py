"""Through Kafka (issue 12): write-to-readable lag, and catch-up without a rebuild.

1. Lag. ingest, relay, two projection workers and query, each a `mastery
   serve` process, on a fresh PostgreSQL database and a topic of its own. A
   paced load posts batches of 100 district events to ingest at `rate`
   events/s; meanwhile a probe posts one event (a goal) to ingest, then reads
   that student's mastery from the query role with `?min_position=` the
   write's position until it answers 200. The lag is the time from the
   write's answer to the read's (target: p99 <= 2 s).
2. Catch-up. `backlog` district events written to a fresh database and all
   published to a topic by the relay before any worker runs; then one (and,
   on a copy of that database made before any projection ran, two) `mastery
   serve --role projections` workers of a new consumer group start, and the
   clock runs from their launch (starting and joining the group included)
   until the read models' position reaches the log's head. The floor is a
   rebuild of the same log in process, timed in the same run.

`python -m bench.kafka_run [--rate 500] [--seconds 30] [--backlog 30000] [--smoke]`
(`python -m bench` runs it after the PostgreSQL figures; `--no-kafka` skips it.)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.kafka_catch_up import measure_catch_up
from bench.kafka_lag import measure_lag
from bench.kafka_roles import KafkaConfig
from bench.tansu import tansu_broker


@contextlib.contextmanager
def _broker(given: str | None) -> Iterator[str]:
    if given:
        yield given
        return
    with tansu_broker() as broker:
        yield broker.bootstrap


def run(config: KafkaConfig) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    load_before = os.getloadavg()[0]
    with (
        tempfile.TemporaryDirectory(prefix="mastery-kafka-bench-") as tmp,
        _broker(config.bootstrap) as bootstrap,
    ):
        lag = measure_lag(config, Path(tmp), bootstrap, tag)
        catch_up = measure_catch_up(config, Path(tmp), bootstrap, tag) if config.backlog else None
    broker = "given" if config.bootstrap else "tansu (memory)"
    # The machine's load (1-minute average) before and after: on a shared machine the figures move with it.
    load = {"before": load_before, "after": os.getloadavg()[0], "cpus": os.cpu_count()}
    return {"lag": lag, "catch_up": catch_up, "broker": broker, "load_average_1m": load}


def describe(figures: dict[str, Any]) -> str:
    lag, up = figures["lag"], figures["catch_up"]
    if up is None:
        return (
            f"through Kafka ({figures['broker']}): write-to-readable lag p50 {lag['p50']:.0f} ms, "
            f"p99 {lag['p99']:.0f} ms (n={lag['n']}) at {lag['load_events_per_s']:,.0f} events/s posted"
        )
    return (
        f"through Kafka ({figures['broker']}): write-to-readable lag p50 {lag['p50']:.0f} ms, "
        f"p99 {lag['p99']:.0f} ms (n={lag['n']}) at {lag['load_events_per_s']:,.0f} events/s posted; "
        f"catch-up of {up['log_entries']:,} entries: one worker {up['one_worker_events_per_s']:,.0f} "
        f"events/s, two {up['two_workers_events_per_s']:,.0f} events/s, "
        f"rebuild floor {up['floor_rebuild_events_per_s']:,.0f} events/s"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.kafka_run", description=__doc__)
    p.add_argument("--rate", type=float, default=500.0, help="events/s posted while the lag is probed")
    p.add_argument("--seconds", type=float, default=30.0, help="how long the lag is probed")
    p.add_argument("--backlog", type=int, default=30_000, help="events the workers catch up on (0: lag only)")
    p.add_argument("--partitions", type=int, default=12)
    p.add_argument("--bootstrap", default=os.environ.get("MASTERY_BENCH_KAFKA_BOOTSTRAP"))
    p.add_argument(
        "--smoke", action="store_true", help="tiny sizes: 100 events/s for 3 s, a 1,500-event backlog"
    )
    p.add_argument("--out", type=Path, default=None, help="write the figures as JSON here too")
    args = p.parse_args(argv)
    config = KafkaConfig(args.rate, args.seconds, args.backlog, args.partitions, bootstrap=args.bootstrap)
    if args.smoke:
        config = KafkaConfig(100.0, 3.0, 1_500, 3, bootstrap=args.bootstrap)
    figures = run(config)
    print(describe(figures))
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
