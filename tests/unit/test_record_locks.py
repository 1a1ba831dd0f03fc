"""PUTs of one record take turns; the locks live only while in use."""

from __future__ import annotations

import threading

from services.ingest.record_locks import RecordLocks


def test_one_record_at_a_time_and_nothing_kept_afterwards() -> None:
    locks = RecordLocks()
    inside = 0
    most = 0
    guard = threading.Lock()
    start = threading.Barrier(8)

    def put() -> None:
        nonlocal inside, most
        start.wait()
        for _ in range(200):
            with locks.holding("x"):
                with guard:
                    inside += 1
                    most = max(most, inside)
                with guard:
                    inside -= 1

    threads = [threading.Thread(target=put) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most == 1
    assert locks._locks == {}  # memory stays bounded by the PUTs in flight
