"""Write-to-readable lag under load, the one way both lag measures take it
(bench/runner.py's embedded and PostgreSQL runs, bench/kafka_lag.py's run
through Kafka): a thread posts batches at a steady pace while a probe writes
one event (a goal) and reads that student's mastery with `?min_position=` the
write's position until it answers 200."""

from __future__ import annotations

import contextlib
import random
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from bench.timing import percentiles

PROBE_PAUSE = 0.2  # seconds between probes, so the probe is not itself a load


@dataclass
class PacedLoad:
    """Batches posted in the background at `rate` events/s; `sent` counts them."""

    events_per_body: int
    rate: float
    sent: int = 0
    started: float = field(default_factory=time.perf_counter)
    stop: threading.Event = field(default_factory=threading.Event)

    def posted_per_second(self) -> float:
        return self.sent / (time.perf_counter() - self.started)


@contextlib.contextmanager
def paced_load(
    base: str, auth: dict[str, str], bodies: list[bytes], events_per_body: int, rate: float
) -> Iterator[PacedLoad]:
    """Post `bodies` to `base` in a thread, one every events_per_body/rate s,
    until they run out or the block ends."""
    load = PacedLoad(events_per_body, rate)

    def post_paced() -> None:
        with httpx.Client(base_url=base, headers=auth, timeout=120) as client:
            next_at = time.perf_counter()
            for body in bodies:
                if load.stop.is_set():
                    return
                client.post("/v1/events", content=body).raise_for_status()
                load.sent += events_per_body
                next_at += events_per_body / rate
                load.stop.wait(max(0.0, next_at - time.perf_counter()))

    def post_then_stop() -> None:
        try:
            post_paced()
        finally:
            load.stop.set()  # the bodies ran out (or a post failed): the probe ends with them

    loader = threading.Thread(target=post_then_stop, daemon=True)
    loader.start()
    try:
        yield load
    finally:
        load.stop.set()
        loader.join(60)


def probe_lag(
    write: httpx.Client, read: httpx.Client, students: list[str], seed: int, seconds: float, load: PacedLoad
) -> dict[str, Any]:
    """Probe for `seconds` (or until the load ends): lag and write-time
    percentiles, the 503s asked again, and the load actually posted."""
    rng = random.Random(seed)
    lags: list[float] = []
    writes: list[float] = []
    unanswered = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds and not load.stop.is_set():
        student = rng.choice(students)
        goal = {
            "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "type": "goal",
            "student_id": student,
            "occurred_at": "2026-06-01T12:00:00Z",
            "target_mastered": 10,
            "due": "2026-06-15",
        }
        before = time.perf_counter()
        answer = write.post("/v1/events", content=orjson.dumps({"events": [goal]}))
        answer.raise_for_status()
        written = time.perf_counter()
        position = answer.json()["position"]
        url = f"/v1/students/{student}/mastery"
        # The query waits up to its own limit before a 503; the client waits longer than that.
        while read.get(url, params={"min_position": position}, timeout=60).status_code != 200:
            unanswered += 1  # 503: not there within the query's wait; ask again
        writes.append(written - before)
        lags.append(time.perf_counter() - written)
        time.sleep(PROBE_PAUSE)
    return {
        **percentiles(lags),
        "write": percentiles(writes),
        "unanswered_503": unanswered,
        "load_events_per_s": load.posted_per_second(),
        "load_target_per_s": load.rate,
    }
