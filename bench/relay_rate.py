"""Relay catch-up throughput: events/s the relay publishes from a PostgreSQL
log that is already written, beside a floor measured in the same run.

Loads a synthetic district's events into a fresh PostgreSQL database (the
bench's generator), then, each on a topic of its own:

* floor: the same records, already in memory, produced with the relay's
  producer settings in batches of the relay's size, each batch waited for
  until acknowledged: what publishing costs without the log;
* relay: `services/relay/publisher.Relay` in a thread, from position 0 until
  its recorded position reaches the log's head: reading the log, sending,
  waiting for acknowledgements, recording its position.

The ratio relay / floor says what the outbox costs. Kafka is
MASTERY_BENCH_KAFKA_BOOTSTRAP (or --bootstrap), else a Tansu broker started
here (bench/tansu.py; the test extras install it).

`python -m bench.relay_rate --events 100000 [--partitions 12] [--out FILE]`
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.postgres import fresh_database
from bench.tansu import tansu_broker
from infra.kafka_clients import discard, ensure_topic, producer
from infra.relay_log import published_of, relay_connection
from infra.settings import Settings, load_settings
from services.bootstrap import build_ledger
from services.demo.district import District, batches
from services.demo.load import load_roster, write_batches
from services.relay.publisher import Relay


@contextlib.contextmanager
def _bootstrap(given: str | None) -> Iterator[str]:
    if given:
        yield given
        return
    with tansu_broker() as broker:
        yield broker.bootstrap


def load(settings: Settings, events: int, seed: int) -> int:
    district = District(seed, max(50, events // 200), heavy_events=0)
    with contextlib.closing(build_ledger(settings)) as ledger:
        load_roster(ledger, district)
        write_batches(ledger, batches(district.events(events), 1_000))
        return ledger.store.head_position()


def floor(settings: Settings, topic: str) -> float:
    """Seconds to produce the log's records (read beforehand) as the relay would."""
    assert settings.database_url and settings.kafka_bootstrap
    with relay_connection(settings.database_url, topic) as log:
        records, at = [], 0
        while chunk := log.after(at, settings.relay_batch_size):
            records.append(chunk)
            at = chunk[-1].position
    ensure_topic(settings.kafka_bootstrap, topic, settings.kafka_partitions)
    kafka = producer(settings.kafka_bootstrap)
    try:
        began = time.perf_counter()
        for chunk in records:
            futures = [kafka.send(topic, value=e.state, key=e.key, headers=e.headers) for e in chunk]
            kafka.flush()
            for f in futures:
                f.get(timeout=30)
        return time.perf_counter() - began
    finally:
        discard(kafka)


def relay(settings: Settings, head: int) -> float:
    """Seconds for a relay starting from nothing to have published up to `head`."""
    assert settings.database_url
    stop = threading.Event()
    worker = Relay(settings)
    began = time.perf_counter()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        while True:
            done = published_of(settings.database_url, settings.kafka_topic)
            if done is not None and done.position >= head:
                return time.perf_counter() - began
            if not thread.is_alive() or time.perf_counter() - began > 3600:
                raise SystemExit(f"bench: the relay did not finish ({worker.status.problem})")
            time.sleep(0.01)
    finally:
        stop.set()
        thread.join(30)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.relay_rate", description=__doc__)
    p.add_argument("--events", type=int, default=100_000)
    p.add_argument("--partitions", type=int, default=12)
    p.add_argument("--batch", type=int, default=1000, help="MASTERY_RELAY_BATCH_SIZE")
    p.add_argument("--bootstrap", default=os.environ.get("MASTERY_BENCH_KAFKA_BOOTSTRAP"))
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--out", type=Path, default=None, help="write the figures as JSON here too")
    args = p.parse_args(argv)
    run = uuid.uuid4().hex[:8]
    with (
        tempfile.TemporaryDirectory(prefix="mastery-relay-bench-") as tmp,
        fresh_database() as url,
        _bootstrap(args.bootstrap) as bootstrap,
    ):
        settings = load_settings(
            data_dir=Path(tmp),
            database_url=url,
            kafka_bootstrap=bootstrap,
            kafka_topic=f"bench-relay-{run}",
            kafka_partitions=args.partitions,
            relay_batch_size=args.batch,
        )
        head = load(settings, args.events, args.seed)
        floor_s = floor(settings, f"bench-floor-{run}")
        relay_s = relay(settings, head)
    figures: dict[str, Any] = {
        "log_entries": head,
        "partitions": args.partitions,
        "batch": args.batch,
        "broker": "given" if args.bootstrap else "tansu (memory)",
        "floor_events_per_s": head / floor_s,
        "relay_events_per_s": head / relay_s,
        "ratio": floor_s / relay_s,
    }
    print(
        f"relay catch-up, {head:,} log entries, {args.partitions} partitions, batches of {args.batch}, "
        f"{figures['broker']}: relay {figures['relay_events_per_s']:,.0f} events/s, "
        f"floor (produce only) {figures['floor_events_per_s']:,.0f} events/s, ratio {figures['ratio']:.0%}"
    )
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
