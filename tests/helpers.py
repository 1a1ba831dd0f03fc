"""Builders for requests, so tests say what differs and nothing else."""

from __future__ import annotations

import random
import time
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.bootstrap import Ledger

RULE_9_OF_10: dict[str, Any] = {"threshold": {"kind": "correct_of", "min_correct": 9, "of": 10}}

# An attempt's body with what a stored state must carry through unchanged:
# nested lists and nulls, quotes, escapes, U+2028, astral characters.
TRICKY_ATTEMPT_BODY: dict[str, Any] = {
    "objective_id": "alg1.u2.o4",
    "form": "A",
    "evidence": "quiz",
    "score": {"correct": 9, "total": 10},
    "duration_seconds": 312.5,
    "accommodations": {"extended_time_factor": 1.5},
    "items": [{"n": 1, "ok": True, "answer": None}, {"n": 2, "ok": False, "answer": "x = -3"}],
    "notes": 'Zoë wrote "√2" \u2028 and\n\ta tab\there \U0001f600',
}


def new_id() -> str:
    return str(uuid.uuid4())


def objective_body(oid: str, rule: dict[str, Any]) -> dict[str, Any]:
    """The PUT body of an Algebra 1, unit 1 objective with `rule`, in force since August."""
    return {
        "statement": f"Objective {oid}",
        "subject": "math",
        "course": "algebra-1",
        "unit": "u1",
        "rule": rule,
        "effective_from": "2026-08-01T00:00:00Z",
    }


def seed_roster(
    c: TestClient,
    students: tuple[str, ...] = ("s1",),
    objectives: dict[str, dict[str, Any]] | None = None,
    school: str = "sch1",
    class_id: str | None = "c1",
    wait: bool = True,
) -> int:
    """PUT a school, students, objectives and a class; return the last write's
    position once the read models reflect it (through Kafka, on the
    distributed backend, that is not at once). `wait=False` returns at once,
    for a test whose read models cannot move (no broker)."""
    writes = [c.put(f"/v1/schools/{school}", json={"name": "Lincoln Middle"})]
    for s in students:
        student = {"name": f"Student {s}", "grade": "7", "school_id": school}
        writes.append(c.put(f"/v1/students/{s}", json=student))
    for oid, rule in (objectives or {"o1": RULE_9_OF_10}).items():
        writes.append(c.put(f"/v1/objectives/{oid}", json=objective_body(oid, rule)))
    if class_id:
        body = {"name": "7B", "school_id": school, "teacher_ids": ["t1"], "student_ids": list(students)}
        writes.append(c.put(f"/v1/classes/{class_id}", json=body))
    for r in writes:
        assert r.status_code in (200, 201), r.text
    position = max(int(r.json()["position"]) for r in writes)
    if wait:
        assert projected(ledger_of(c), position), f"the read models did not reach {position}"
    return position


def bearer(c: TestClient, role: str, *scopes: str) -> dict[str, str]:
    """The Authorization header of a new token with `role` and `scopes`."""
    token = ledger_of(c).tokens.create(role, list(scopes), f"{role}-test")
    return {"Authorization": f"Bearer {token}"}


def seed_summary_school(c: TestClient) -> int:
    """A school `sch1` of twelve grade-7 learners (class c1) who master o1 in
    the week of 14 September and half of them o2 the week after, three grade-8
    learners in class 8A (c8: a cell small enough to suppress) who master o1,
    and one learner of another school `sch2`; the position of the last write."""
    big = tuple(f"learner-{i:02d}" for i in range(12))
    seed_roster(c, students=big, objectives={"o1": RULE_9_OF_10, "o2": RULE_9_OF_10})
    small = ("eighth-1", "eighth-2", "eighth-3")
    puts: list[tuple[str, dict[str, Any]]] = [
        (f"/v1/students/{s}", {"name": s, "grade": "8", "school_id": "sch1"}) for s in small
    ]
    puts += [
        ("/v1/classes/c8", {"name": "8A", "school_id": "sch1", "student_ids": list(small)}),
        ("/v1/schools/sch2", {"name": "Other"}),
        ("/v1/students/far-1", {"name": "f", "grade": "7", "school_id": "sch2"}),
    ]
    for url, body in puts:
        r = c.put(url, json=body)
        assert r.status_code in (200, 201), r.text
    events = [attempt(s, "o1", correct=10, at="2026-09-15T09:00:00Z") for s in big]
    events += [attempt(s, "o2", correct=10, at="2026-09-23T09:00:00Z") for s in big[:6]]
    events += [attempt(s, "o2", correct=3, at="2026-09-23T09:00:00Z") for s in big[6:]]
    events += [attempt(s, "o1", correct=10, at="2026-09-15T09:00:00Z") for s in small]
    events.append(attempt("far-1", "o1", correct=10, at="2026-09-15T09:00:00Z"))
    return int(post(c, *events)["position"])


def attempt(
    student: str = "s1",
    objective: str = "o1",
    correct: int = 9,
    total: int = 10,
    at: str = "2026-09-14T09:30:00-05:00",
    form: str = "A",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "event_id": new_id(),
        "type": "attempt",
        "student_id": student,
        "occurred_at": at,
        "objective_id": objective,
        "form": form,
        "evidence": "quiz",
        "score": {"correct": correct, "total": total},
        **extra,
    }


def post(c: TestClient, *events: dict[str, Any]) -> dict[str, Any]:
    r = c.post("/v1/events", json={"events": list(events)})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def mastery(c: TestClient, student: str, position: int, **params: str) -> dict[str, Any]:
    r = c.get(f"/v1/students/{student}/mastery", params={"min_position": position, **params})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def projected(ledger: Ledger, position: int, timeout: float = 60.0) -> bool:
    """Whether the read models reach `position` within `timeout` s, for a test
    that reads the tables directly while the runner's thread applies the log.
    A bound, not a timing (it returns as soon as they do): a fresh consumer
    group's first batch took over 10 s on a loaded CI runner."""
    deadline = time.monotonic() + timeout
    while ledger.runner.position() < position:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def read_model_rows(ledger: Ledger) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every read-model table, by table, in key order: what a
    live run and a rebuild are compared by."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with ledger.engine.connect() as conn:
        for p in ledger.runner.projections:
            for t in p.tables:
                out[t.name] = [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
    return out


def schema_refs(node: Any) -> list[str]:
    """Every `$ref` in an OpenAPI (sub)document."""
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for v in node.values() for r in schema_refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in schema_refs(v)]
    return []


def ledger_of(client: TestClient) -> Ledger:
    """The ledger of an in-process app (the `client` fixture's)."""
    ledger: Ledger = client.app.state.ledger  # type: ignore[attr-defined]
    return ledger


def use_store(monkeypatch: pytest.MonkeyPatch, ledger: Ledger) -> None:
    """Point the `mastery` commands (run in process by typer's CliRunner) at the ledger's store."""
    monkeypatch.setenv("MASTERY_DATA_DIR", str(ledger.settings.data_dir))
    if ledger.settings.database_url:
        monkeypatch.setenv("MASTERY_DATABASE_URL", ledger.settings.database_url)


def post_random_history(c: TestClient, rng: random.Random) -> int:
    """Twelve students, five percent objectives and 300 events drawn by `rng`
    (attempts, retakes of earlier ones, voids, overrides), posted in uneven
    batches; the last batch's position."""
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
