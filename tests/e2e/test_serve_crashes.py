"""What a SIGKILL of `mastery serve` at the worst moment leaves behind, on
both stores (CONTRACT.md §4): a 200 survives it, a batch is stored whole or
not at all, a backlog projected again equals a rebuild; and two ingest
processes on one store store every batch once.

Every test starts the console script on a free port, talks HTTP to it with
httpx (tests/e2e/serve_process.py), and kills it with SIGKILL where a crash is
the point.
"""

from __future__ import annotations

import random
import subprocess
import threading
import time
from collections import Counter

import httpx
import pytest

from tests.e2e.serve_process import (
    MASTERY,
    TOKEN,
    Event,
    Server,
    history,
    mastery,
    ok,
    post,
    replayed,
    snapshot,
    wait_projected,
)
from tests.e2e.workload import Workload, seed
from tests.helpers import attempt

# One `mastery serve` (role all) per store, killed and restarted; the roles as
# processes of their own through Kafka are tests/kafka/test_relay_processes.py.
pytestmark = pytest.mark.stores_only("one `mastery serve` process on one store, killed and restarted")


def test_a_200_survives_sigkill_right_after_it(server: Server) -> None:
    students = [f"s{i:02d}" for i in range(4)]
    http = server.start()
    seed(http, students)
    work = Workload(students, seed=11)
    batch = work.batch(400)
    out = post(http, batch)
    server.kill()  # right after the 200: projections have had no time to catch up
    assert out["stored"] == len(batch)

    http = server.start()
    assert ok(http.get("/health"))["position"] == out["position"]
    wait_projected(http, out["position"])
    voided = {e["target_event_id"] for e in batch if e["type"] == "void"}
    evidence = Counter(
        (e["student_id"], e["objective_id"])
        for e in batch
        if e["type"] in ("attempt", "retake") and e["event_id"] not in voided
    )
    assert voided and len(evidence) > 10  # the mix has what the checks below rely on
    for s in students:
        trail = history(http, s)
        mine = [e["event_id"] for e in batch if e["student_id"] == s]
        assert sorted(e["event_id"] for e in trail) == sorted(mine)  # each once, none lost
        assert {e["event_id"] for e in trail if e["voided"]} == voided & set(mine)
        live = mastery(http, s)
        assert {o["objective_id"]: o["evidence_count"] for o in live} == {
            o: evidence[s, o] for o in {o["objective_id"] for o in live}
        }
        assert {o for (st, o) in evidence if st == s} <= {o["objective_id"] for o in live}
        assert live == replayed(http, s)

    again = post(http, batch)
    assert (again["stored"], again["duplicates"], again["position"]) == (0, len(batch), out["position"])
    assert sum(len(history(http, s)) for s in students) == len(batch)


def test_sigkill_while_projecting_a_backlog_ends_equal_to_a_rebuild(server: Server) -> None:
    students = [f"s{i:02d}" for i in range(30)]
    # Smaller projection transactions: more commit points for the kill to fall between or inside.
    server.env["MASTERY_PROJECTION_BATCH_SIZE"] = "250"
    http = server.start()
    seed(http, students)
    work = Workload(students, seed=5)
    batches = [work.batch(1000) for _ in range(5)]
    positions = [post(http, b)["position"] for b in batches]
    head = positions[-1]
    projected = int(http.get("/v1/students/s00/mastery").headers["X-Projection-Position"])
    server.kill()
    assert projected < head, "the projections had caught up before the kill: make the backlog larger"

    http = server.start()
    wait_projected(http, head)
    live = snapshot(http, students)
    assert sum(len(history(http, s)) for s in students) == sum(map(len, batches))
    for s in students:
        assert live[s] == replayed(http, s), s

    # A rebuild from position 0 (serving continues meanwhile) must change nothing.
    done = subprocess.run(
        [MASTERY, "rebuild", "--workers", "2", "--data-dir", str(server.data_dir)],
        env=server.env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert snapshot(http, students) == live


def test_sigkill_during_a_write_stores_all_of_the_batch_or_none(server: Server) -> None:
    students = [f"s{i:02d}" for i in range(30)]
    http = server.start()
    seed(http, students)
    batch = Workload(students, seed=3).batch(5000)
    answers: list[int] = []

    def send() -> None:
        try:
            answers.append(http.post("/v1/events", json={"events": batch}).status_code)
        except httpx.HTTPError:
            answers.append(0)  # the connection died with the server

    sender = threading.Thread(target=send)
    sender.start()
    delay = random.uniform(0.05, 0.4)  # somewhere in parsing, validating or appending; any moment must do
    time.sleep(delay)
    server.kill()
    sender.join(30)
    http = server.start()

    again = post(http, batch)
    assert again["stored"] + again["duplicates"] == len(batch)
    assert again["duplicates"] in (0, len(batch)), (
        f"a torn batch: {again['duplicates']} of {len(batch)} stored after a kill at {delay:.2f} s"
    )
    if answers == [200]:
        assert again["duplicates"] == len(batch), f"a 200 was lost (kill at {delay:.2f} s)"
    wait_projected(http, again["position"])
    assert sum(len(history(http, s)) for s in students) == len(batch)


def test_ingest_in_two_processes_stores_every_batch_once(server: Server) -> None:
    """`--role ingest --workers 2`: both processes answer on one port, and
    batches posted concurrently through them are all stored, once each."""
    http = server.start("--role", "ingest", "--workers", "2")
    students = [f"s{i:02d}" for i in range(12)]
    seed(http, students)
    pids = {
        httpx.get(f"{server.base}/health", headers={"Authorization": f"Bearer {TOKEN}"}).json()["pid"]
        for _ in range(40)
    }
    assert len(pids) == 2, pids
    rng = random.Random(5)
    batches = [
        [attempt(rng.choice(students), "o-latest", correct=rng.randrange(11)) for _ in range(50)]
        for _ in range(24)
    ]
    positions: list[int] = []

    def send(mine: list[list[Event]]) -> None:
        with httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
            for b in mine:
                positions.append(post(c, b)["position"])

    threads = [threading.Thread(target=send, args=(batches[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(positions) == len(batches)
    again = post(http, batches[0])  # a batch sent twice: all duplicates
    assert again["stored"] == 0 and again["duplicates"] == 50
    server.stop()

    http = server.start()  # role all on the same store: projections and reads
    wait_projected(http, max(positions))
    sent = Counter(e["student_id"] for b in batches for e in b)
    for s in students:
        assert len(history(http, s)) == sent[s], s
