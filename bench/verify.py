"""(h) `mastery verify`'s speed: the whole log checked against its hash chains
and the event index (services/verify.py), in process, beside its floor: the
same pages of the log read without checking anything."""

from __future__ import annotations

import time
from typing import Any

from infra.recorders import END_OF_STREAMS, FIRST_STREAM
from services.bootstrap import Ledger
from services.verify import PAGE, Verifier


def measure_verify(ledger: Ledger) -> dict[str, Any]:
    report = Verifier(ledger.store).verify_all()
    recorder = ledger.store.indexed
    started = time.perf_counter()
    rows = 0
    after = (FIRST_STREAM, -1)
    while page := recorder.select_chained(after, END_OF_STREAMS, report.upto, PAGE):
        rows += len(page)
        after = (page[-1].stream, page[-1].version)
    read = time.perf_counter() - started
    return {
        "events": report.events,
        "streams": report.streams,
        "seconds": report.seconds,
        "rate": report.rate,
        "floor_rows": rows,
        "floor_seconds": read,
        "floor_rate": rows / read,
        "ratio": report.rate / (rows / read),
    }
