"""A rebuild gives exactly the live read models, and reads keep answering during it."""

from __future__ import annotations

import random
import threading
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from services.bootstrap import Ledger
from services.projections.rebuild import rebuild
from tests.helpers import attempt, new_id, post, seed_roster


def _snapshot(ledger: Ledger) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    with ledger.engine.connect() as conn:
        for p in ledger.runner.projections:
            for t in p.tables:
                rows = conn.execute(select(t).order_by(*t.primary_key.columns)).fetchall()
                out[t.name] = [tuple(r) for r in rows]
    return out


def _district(c: TestClient, rng: random.Random) -> int:
    students = tuple(f"s{i}" for i in range(12))
    seed_roster(
        c,
        students=students,
        objectives={f"o{i}": {"threshold": {"kind": "percent", "min": 80}} for i in range(5)},
    )
    position = 0
    events: list[dict[str, Any]] = []
    for _ in range(300):
        s, o = rng.choice(students), f"o{rng.randrange(5)}"
        day = rng.randrange(1, 28)
        earlier = [
            e
            for e in events
            if e["student_id"] == s and e.get("objective_id") == o and e["type"] != "override"
        ]
        if earlier and rng.random() < 0.3:
            ev = attempt(
                s, o, correct=rng.randrange(11), at=f"2026-10-{day:02d}T10:00:00Z", form=rng.choice("AB")
            )
            ev.update(type="retake", retake_of=rng.choice(earlier)["event_id"])
        elif earlier and rng.random() < 0.05:
            ev = {
                "event_id": new_id(),
                "type": "void",
                "student_id": s,
                "occurred_at": f"2026-10-{day:02d}T11:00:00Z",
                "target_event_id": rng.choice(earlier)["event_id"],
                "reason": "wrong student",
            }
        elif rng.random() < 0.05:
            ev = {
                "event_id": new_id(),
                "type": "override",
                "student_id": s,
                "occurred_at": f"2026-10-{day:02d}T12:00:00Z",
                "objective_id": o,
                "status": rng.choice(["mastered", "not_mastered", "cleared"]),
                "reason": "conference",
            }
        else:
            ev = attempt(
                s, o, correct=rng.randrange(11), at=f"2026-10-{day:02d}T09:00:00Z", form=rng.choice("AB")
            )
        events.append(ev)
    for i in range(0, len(events), 37):  # uneven batches, so batch edges fall anywhere
        position = post(c, *events[i : i + 37])["position"]
    return position


def test_rebuild_equals_live_and_reads_continue(client: TestClient) -> None:
    ledger: Ledger = client.app.state.ledger  # type: ignore[attr-defined]
    position = _district(client, random.Random(42))
    assert ledger.runner.wait_for(position, 10)
    before = _snapshot(ledger)
    assert before["rm_mastery"], "the district produced mastery rows"

    failures: list[str] = []
    stop = threading.Event()

    def read_while_rebuilding() -> None:
        while not stop.is_set():
            r = client.get("/v1/students/s3/mastery")
            if r.status_code != 200 or not r.json()["objectives"]:
                failures.append(f"{r.status_code} {r.text[:200]}")

    reader = threading.Thread(target=read_while_rebuilding)
    reader.start()
    try:
        report = rebuild(ledger)
    finally:
        stop.set()
        reader.join()
    assert failures == []
    assert report.events >= position
    assert _snapshot(ledger) == before

    # The live runner keeps working on the swapped-in tables.
    out = post(client, attempt("s3", "o1", correct=10, at="2026-11-01T09:00:00Z"))
    r = client.get("/v1/students/s3/mastery", params={"min_position": out["position"]})
    row = next(o for o in r.json()["objectives"] if o["objective_id"] == "o1")
    assert row["status"] == "mastered"


def test_rebuild_of_one_projection_leaves_the_others(ledger: Ledger) -> None:
    report = rebuild(ledger, ["catalog"])
    assert report.projections == ("catalog",)
