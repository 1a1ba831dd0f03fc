"""`mastery serve` as a real process: events in, mastery out, on both stores, and
what a SIGKILL at the worst moment leaves behind (CONTRACT.md §4).

Every test starts the console script on a free port, talks HTTP to it with
httpx, and kills it with SIGKILL where a crash is the point.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import RULE_9_OF_10, attempt, new_id
from tests.services import fresh_postgres_database

# One `mastery serve` (role all) per store, killed and restarted; the roles as
# processes of their own through Kafka are tests/kafka/test_relay_processes.py.
pytestmark = pytest.mark.stores_only("one `mastery serve` process on one store, killed and restarted")

MASTERY = str(Path(sys.executable).with_name("mastery"))
TOKEN = "e2e-bootstrap-token"
START_TIMEOUT = 60.0
Event = dict[str, Any]

OBJECTIVES: dict[str, dict[str, Any]] = {
    "o-latest": RULE_9_OF_10,
    "o-highest": {"threshold": {"kind": "percent", "min": 80}, "calculation": {"method": "highest"}},
    "o-twice": {
        "threshold": {"kind": "correct_of", "min_correct": 4, "of": 5},
        "calculation": {"method": "n_times", "n": 2},
    },
    "o-average": {"threshold": {"kind": "percent", "min": 70}, "calculation": {"method": "average"}},
    "o-rubric": {
        "threshold": {
            "kind": "rubric",
            "levels": ["beginning", "developing", "secure"],
            "min_level": "secure",
        },
        "calculation": {"method": "decaying_average"},
    },
}
LEVELS = ["beginning", "developing", "secure"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """One `mastery serve` process at a time on a data dir (and database, if any)."""

    def __init__(self, env: dict[str, str], data_dir: Path) -> None:
        self.env = env
        self.data_dir = data_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data_dir.parent / "serve.log"
        self.base = ""

    def start(self, *args: str) -> httpx.Client:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        port = _free_port()
        self.base = f"http://127.0.0.1:{port}"
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [MASTERY, "serve", "--data-dir", str(self.data_dir), "--port", str(port), *args],
                env=self.env,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"mastery serve exited {self.proc.returncode}: {self.tail()}")
            try:
                if httpx.get(f"{self.base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"mastery serve did not answer within {START_TIMEOUT:g} s: {self.tail()}"
                )
            time.sleep(0.05)
        return httpx.Client(base_url=self.base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)

    def kill(self) -> None:
        """SIGKILL: no shutdown hook, no flush, no goodbye."""
        assert self.proc is not None and self.proc.poll() is None, "not running"
        self.proc.send_signal(signal.SIGKILL)
        assert self.proc.wait(10) == -signal.SIGKILL

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


@pytest.fixture
def server_env(backend: str) -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTERY_")}
    env["MASTERY_BOOTSTRAP_TOKEN"] = TOKEN
    if backend == "sqlite":
        yield env
    else:
        with fresh_postgres_database() as url:
            yield {**env, "MASTERY_DATABASE_URL": url}


@pytest.fixture
def server(server_env: dict[str, str], tmp_path: Path) -> Iterator[Server]:
    srv = Server(server_env, tmp_path / "data")
    try:
        yield srv
    finally:
        srv.stop()  # before the database is dropped


# --- HTTP helpers -----------------------------------------------------------------


def ok(r: httpx.Response, *statuses: int) -> Any:
    assert r.status_code in (statuses or (200,)), (
        f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    )
    return r.json()


def seed(http: httpx.Client, students: list[str]) -> int:
    ok(http.put("/v1/schools/sch1", json={"name": "Lincoln Middle"}), 200, 201)
    for s in students:
        ok(
            http.put(f"/v1/students/{s}", json={"name": f"Student {s}", "grade": "7", "school_id": "sch1"}),
            200,
            201,
        )
    for oid, rule in OBJECTIVES.items():
        body = {
            "statement": f"Objective {oid}",
            "subject": "math",
            "course": "algebra-1",
            "unit": "u1",
            "rule": rule,
            "effective_from": "2026-08-01T00:00:00Z",
        }
        ok(http.put(f"/v1/objectives/{oid}", json=body), 200, 201)
    out = ok(
        http.put("/v1/classes/c1", json={"name": "7B", "school_id": "sch1", "student_ids": students}),
        200,
        201,
    )
    return int(out["position"])


def post(http: httpx.Client, events: list[Event]) -> dict[str, Any]:
    out: dict[str, Any] = ok(http.post("/v1/events", json={"events": events}))
    return out


def mastery(http: httpx.Client, student: str, **params: Any) -> list[dict[str, Any]]:
    body = ok(http.get(f"/v1/students/{student}/mastery", params=params))
    rows: list[dict[str, Any]] = body["objectives"]
    return sorted(rows, key=lambda r: r["objective_id"])


def replayed(http: httpx.Client, student: str) -> list[dict[str, Any]]:
    """The same answer computed by replaying the event store, not read from the read model."""
    return mastery(http, student, known_at="2100-01-01T00:00:00Z")


def history(http: httpx.Client, student: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = ok(http.get(f"/v1/students/{student}/history"))["events"]
    return events


def wait_projected(http: httpx.Client, position: int, timeout: float = 60.0) -> None:
    """Wait (through min_position, which itself waits up to 5 s) until reads reach `position`."""
    deadline = time.monotonic() + timeout
    while True:
        r = http.get("/v1/students/s00/mastery", params={"min_position": position})
        if r.status_code == 200:
            assert int(r.headers["X-Projection-Position"]) >= position
            return
        assert r.status_code == 503 and r.headers["Retry-After"], r.text
        assert time.monotonic() < deadline, f"projections stuck below {position}"


# --- workloads ----------------------------------------------------------------------


def _when(rng: random.Random) -> str:
    return f"2026-09-{rng.randint(1, 30):02d}T{rng.randint(8, 15):02d}:{rng.randint(0, 59):02d}:00-05:00"


def _score(rng: random.Random, objective: str) -> dict[str, Any]:
    if objective == "o-rubric":
        return {"rubric_level": rng.choice(LEVELS)}
    if objective in ("o-highest", "o-average"):
        return {"percent": rng.randint(30, 100)}
    total = 10 if objective == "o-latest" else 5
    return {"correct": rng.randint(total // 2, total), "total": total}


class Workload:
    """A seeded mix of every event type, with references only to earlier events."""

    def __init__(self, students: list[str], seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.students = students
        self.assessed: dict[tuple[str, str], list[str]] = {}  # (student, objective) -> attempts, retakes
        self.referable: dict[str, list[str]] = {}  # student -> events a void may target

    def evidence(self, student: str, objective: str, retake_of: str | None = None) -> Event:
        rng = self.rng
        extra: dict[str, Any] = {"retake_of": retake_of, "type": "retake"} if retake_of else {}
        ev = attempt(student, objective, at=_when(rng), form=rng.choice("ABC"), **extra)
        ev["score"] = _score(rng, objective)
        self.assessed.setdefault((student, objective), []).append(ev["event_id"])
        return ev

    def next(self) -> Event:
        rng = self.rng
        student = rng.choice(self.students)
        objective = rng.choice(list(OBJECTIVES))
        earlier = self.assessed.get((student, objective), [])
        roll = rng.random()
        base = {"event_id": new_id(), "student_id": student, "occurred_at": _when(rng)}
        if not earlier or roll < 0.55:
            ev = self.evidence(student, objective)
        elif roll < 0.72:
            ev = self.evidence(student, objective, retake_of=rng.choice(earlier))
        elif roll < 0.84:
            ev = {**base, "type": "reflection", "on_event": rng.choice(earlier), "text": "sign error"}
        elif roll < 0.91:
            status = rng.choice(["mastered", "not_mastered", "cleared"])
            ev = {
                **base,
                "type": "override",
                "objective_id": objective,
                "status": status,
                "reason": "conference",
            }
        elif roll < 0.96:
            target = rng.choice(self.referable[student])
            ev = {**base, "type": "void", "target_event_id": target, "reason": "entered for the wrong day"}
        else:
            results = [{"objective_id": o, "correct": rng.randint(0, 20), "total": 20} for o in OBJECTIVES]
            ev = {
                **base,
                "type": "benchmark",
                "benchmark_id": new_id(),
                "name": "Interim 1",
                "results": results,
            }
        if ev["type"] != "void":
            self.referable.setdefault(student, []).append(ev["event_id"])
        return ev

    def batch(self, n: int) -> list[Event]:
        return [self.next() for _ in range(n)]


def snapshot(http: httpx.Client, students: list[str]) -> dict[str, list[dict[str, Any]]]:
    return {s: mastery(http, s) for s in students}


# --- tests --------------------------------------------------------------------------


def test_events_in_mastery_and_history_out(server: Server) -> None:
    http = server.start()
    seed(http, ["s00", "s01"])
    miss = attempt("s00", "o-latest", correct=6)
    reflection = {
        "event_id": new_id(),
        "type": "reflection",
        "student_id": "s00",
        "occurred_at": "2026-09-15T09:30:00-05:00",
        "on_event": miss["event_id"],
        "text": "I dropped the negative sign",
    }
    hit = attempt("s00", "o-latest", correct=10, form="B", at="2026-09-16T09:30:00-05:00")
    hit.update(type="retake", retake_of=miss["event_id"])
    low = {**attempt("s00", "o-highest"), "score": {"percent": 55}}
    other = attempt("s01", "o-latest", correct=9)

    out = post(http, [miss, reflection, hit, low, other])
    assert (out["stored"], out["duplicates"]) == (5, 0)
    assert [r["status"] for r in out["results"]] == ["stored"] * 5

    r = http.get("/v1/students/s00/mastery", params={"min_position": out["position"]})
    body = ok(r)
    assert int(r.headers["X-Projection-Position"]) >= out["position"]
    assert body["summary"] == {"mastered": 1, "in_progress": 1, "not_started": 0}
    latest, highest = sorted(body["objectives"], key=lambda o: o["objective_id"])[::-1]
    assert (latest["objective_id"], latest["status"], latest["source"]) == (
        "o-latest",
        "mastered",
        "evidence",
    )
    assert (latest["evidence_count"], latest["deciding_event_id"]) == (2, hit["event_id"])
    assert latest["flags"] == []  # the retake had its reflection
    assert (highest["objective_id"], highest["status"], highest["evidence_count"]) == (
        "o-highest",
        "in_progress",
        1,
    )
    assert mastery(http, "s00") == replayed(http, "s00")
    assert [o["status"] for o in mastery(http, "s01", min_position=out["position"])] == ["mastered"]

    trail = history(http, "s00")
    assert [(e["event_id"], e["type"], e["status_after"]) for e in trail] == [
        (miss["event_id"], "attempt", "in_progress"),
        (low["event_id"], "attempt", "in_progress"),
        (reflection["event_id"], "reflection", "in_progress"),
        (hit["event_id"], "retake", "mastered"),
    ]
    assert all(e["recorded_by"] == "admin:bootstrap" and not e["voided"] for e in trail)
    assert trail[3]["payload"]["score"] == {"correct": 10, "total": 10}


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


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ({"MASTERY_DATABASE_URL": "mysql://x"}, "MASTERY_DATABASE_URL"),
        ({"MASTERY_DATABASE_URL": "postgresql://postgres@127.0.0.1:{port}/x"}, "MASTERY_DATABASE_URL"),
        ({"--role": "bogus"}, "role"),
        ({"MASTERY_KAFKA_BOOTSTRAP": "127.0.0.1:{port}"}, "MASTERY_DATABASE_URL"),
        ({"--role": "relay"}, "MASTERY_KAFKA_BOOTSTRAP"),
    ],
    ids=["mysql url", "unreachable postgres", "unknown role", "kafka, no postgres", "relay, no kafka"],
)
def test_bad_configuration_stops_at_start_with_one_line(
    tmp_path: Path, setting: dict[str, str], named: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTERY_")}
    env["MASTERY_BOOTSTRAP_TOKEN"] = TOKEN
    port = _free_port()
    args = [MASTERY, "serve", "--data-dir", str(tmp_path / "data"), "--port", str(_free_port())]
    for key, template in setting.items():
        value = template.format(port=port)  # a port nothing listens on
        if key.startswith("--"):
            args += [key, value]
        else:
            env[key] = value
    started = time.monotonic()
    done = subprocess.run(args, env=env, capture_output=True, timeout=30, check=False)
    took = time.monotonic() - started
    lines = done.stderr.decode(errors="replace").strip().splitlines()
    assert done.returncode != 0
    assert len(lines) == 1 and named in lines[0], lines
    assert took < 15, f"took {took:.1f} s to fail"
    # It never fell back to the embedded store.
    assert not (tmp_path / "data" / "events.sqlite").exists()


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


def test_workers_above_one_only_for_the_roles_that_keep_no_state(tmp_path: Path) -> None:
    r = subprocess.run(
        [MASTERY, "serve", "--role", "all", "--workers", "2", "--data-dir", str(tmp_path / "d")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert r.returncode == 2
    assert r.stderr.strip() == (
        "mastery: --workers 2 needs --role ingest or query; role 'all' runs the projections, once"
    )


@pytest.mark.parametrize("role", ["all", "query"])
def test_a_flood_of_waiting_reads_leaves_ordinary_reads_answering(server: Server, role: str) -> None:
    """100 reads wait for a position the log never reaches, through real
    connections to a real process: 64 wait (MASTERY_MAX_WAITING_READS), 36 are
    refused at once, and ordinary reads answer while the 64 still wait. Before,
    each wait held a worker thread and a pooled connection for 5 s: 45 of them
    gave 500s and an admin read of 29-59 s."""
    flood, limit, unreachable = 100, 64, 10**12
    http = server.start()
    seed(http, ["s00"])
    out = post(http, [attempt("s00", "o-latest", correct=10)])
    wait_projected(http, out["position"])
    if role == "query":  # projections in no process: polling the database is all a wait has
        server.stop()
        http = server.start("--role", "query")
    made = subprocess.run(
        [
            MASTERY,
            "token",
            "create",
            "--role",
            "teacher",
            "--scope",
            "class:c1",
            "--data-dir",
            str(server.data_dir),
        ],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert made.returncode == 0, made.stderr  # say why, not only the exit status
    teacher = made.stdout.strip()

    async def scenario() -> tuple[list[httpx.Response], list[httpx.Response], dict[str, float], int]:
        limits = httpx.Limits(max_connections=flood + 10, max_keepalive_connections=flood + 10)
        auth = {"Authorization": f"Bearer {TOKEN}"}
        async with httpx.AsyncClient(base_url=server.base, headers=auth, limits=limits, timeout=60) as c:
            waits = [
                asyncio.create_task(c.get("/v1/students/s00/mastery", params={"min_position": unreachable}))
                for _ in range(flood)
            ]
            deadline = time.monotonic() + 30
            while sum(w.done() for w in waits) < flood - limit:
                assert time.monotonic() < deadline, "the reads beyond the limit were not refused"
                await asyncio.sleep(0.005)
            refused = [w.result() for w in waits if w.done()]
            took: dict[str, float] = {}
            reads = {
                "ordinary": ("/v1/students/s00/mastery", {"Authorization": f"Bearer {teacher}"}),
                "admin": ("/v1/students/s00/history", auth),
            }
            for name, (path, headers) in reads.items():
                started = time.monotonic()
                r = await c.get(path, headers=headers)
                took[name] = time.monotonic() - started
                assert r.status_code == 200, (name, r.status_code, r.text)
            still_waiting = sum(not w.done() for w in waits)
            return refused, list(await asyncio.gather(*waits)), took, still_waiting

    refused, answers, took, still_waiting = asyncio.run(scenario())
    print(f"\nduring the flood ({role}): " + ", ".join(f"{k} read {v:.3f} s" for k, v in took.items()))
    assert still_waiting == limit  # the ordinary reads answered before any wait timed out (5 s)
    assert len(refused) == flood - limit
    assert all("too many reads wait" in r.json()["detail"] for r in refused)
    for r in answers:  # none is a 500
        assert r.status_code == 503, (r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.headers["Retry-After"] == "1"
    assert sum("have not reached position" in r.json()["detail"] for r in answers) == limit
