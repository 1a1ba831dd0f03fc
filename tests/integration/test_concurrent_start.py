"""Processes that start together on a new store (the workers of `mastery serve
--workers N`, or of a parallel rebuild) all come up: table creation takes turns."""

from __future__ import annotations

import threading

from infra.settings import Settings
from services.bootstrap import Ledger, build_ledger


def test_many_starts_at_once_on_a_new_store(settings: Settings) -> None:
    starts = 8
    ledgers: list[Ledger] = []
    failures: list[BaseException] = []
    barrier = threading.Barrier(starts)

    def start() -> None:
        barrier.wait()
        try:
            ledgers.append(build_ledger(settings))
        except BaseException as e:
            failures.append(e)

    threads = [threading.Thread(target=start) for _ in range(starts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert failures == []
        assert len(ledgers) == starts
        assert all(led.store.head_position() == 0 for led in ledgers)
    finally:
        for led in ledgers:
            led.close()
