"""`mastery serve` as a real process, on both stores: events in, mastery and
history out; bad configuration stopped at start in one line; `--workers`
only where a role keeps no state; a flood of waiting reads. What a SIGKILL
leaves behind is tests/e2e/test_serve_crashes.py.

Every test starts the console script on a free port and talks HTTP to it
with httpx (tests/e2e/serve_process.py).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from bench.ports import free_port
from tests.e2e.serve_process import (
    MASTERY,
    TOKEN,
    Server,
    history,
    mastery,
    ok,
    post,
    replayed,
    wait_projected,
)
from tests.e2e.workload import seed
from tests.helpers import attempt, new_id

# One `mastery serve` (role all) per store, killed and restarted; the roles as
# processes of their own through Kafka are tests/kafka/test_relay_processes.py.
pytestmark = pytest.mark.stores_only("one `mastery serve` process on one store, killed and restarted")


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
    port = free_port()
    args = [MASTERY, "serve", "--data-dir", str(tmp_path / "data"), "--port", str(free_port())]
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
