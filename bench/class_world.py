"""A class for the class-page bench (bench/class_page.py): N students × M
objectives in units of ten, a term's attempts, retakes, reflections and one
benchmark per unit, written through the HTTP API as a teacher's platform would.

Seeded, so two runs measure the same class. Each student has worked through
a share of the objectives in order (a few up to all of them); each worked
objective has one to three attempts, a retake after a miss (with a reflection
most of the time), and each unit's benchmark covers the students who reached
it, so the page has every kind of cell, groups, tutors and contradictions.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

CLASS_ID = "bench-class"
SCHOOL_ID = "bench-school"
COURSE = "bench-course"
UNIT_SIZE = 10
RULE = {"threshold": {"kind": "correct_of", "min_correct": 4, "of": 5}, "calculation": {"method": "latest"}}
START = datetime(2026, 9, 7, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class ClassWorld:
    class_id: str
    students: list[str]
    objectives: list[str]
    events: int
    position: int  # the log position after the last batch


def _put(c: httpx.Client, path: str, body: dict[str, Any]) -> None:
    r = c.put(path, json=body)
    if r.status_code not in (200, 201):
        raise RuntimeError(f"PUT {path}: {r.status_code} {r.text[:300]}")


def _event(kind: str, student: str, at: datetime, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "type": kind,
        "student_id": student,
        "occurred_at": at.isoformat(),
        **fields,
    }


def _attempt(kind: str, student: str, oid: str, at: datetime, correct: int, **extra: Any) -> dict[str, Any]:
    return _event(
        kind,
        student,
        at,
        objective_id=oid,
        form="A" if kind == "attempt" else "B",
        evidence="quiz",
        score={"correct": correct, "total": 5},
        **extra,
    )


def student_events(rng: random.Random, student: str, objectives: list[str]) -> list[dict[str, Any]]:
    reached = rng.randint(len(objectives) // 6, len(objectives))
    out: list[dict[str, Any]] = []
    at = START + timedelta(minutes=rng.randint(0, 600))
    for n, oid in enumerate(objectives[:reached]):
        at += timedelta(days=1, minutes=rng.randint(0, 90))
        first = _attempt("attempt", student, oid, at, rng.choice([1, 2, 3, 4, 5, 5]))
        out.append(first)
        if first["score"]["correct"] < 4 and rng.random() < 0.7:
            if rng.random() < 0.8:
                out.append(
                    _event(
                        "reflection",
                        student,
                        at + timedelta(hours=2),
                        on_event=first["event_id"],
                        text="I went back over the worked examples.",
                    )
                )
            out.append(
                _attempt(
                    "retake",
                    student,
                    oid,
                    at + timedelta(days=2),
                    rng.choice([3, 4, 5]),
                    retake_of=first["event_id"],
                )
            )
        if n % UNIT_SIZE == UNIT_SIZE - 1:  # the end of a unit: its benchmark
            unit = objectives[n - UNIT_SIZE + 1 : n + 1]
            results = [{"objective_id": o, "correct": rng.randint(1, 5), "total": 5} for o in unit]
            out.append(
                _event(
                    "benchmark",
                    student,
                    at + timedelta(days=1),
                    benchmark_id=f"bench-u{n // 10}",
                    name=f"Unit {n // 10 + 1} test",
                    results=results,
                )
            )
    return out


def build(c: httpx.Client, students: int, objectives: int, seed: int) -> ClassWorld:
    """Roster, catalog and events through the API (`c` carries an admin token)."""
    rng = random.Random(seed)
    _put(c, f"/v1/schools/{SCHOOL_ID}", {"name": "Bench Middle School"})
    sids = [f"bs-{i:03d}" for i in range(students)]
    first = ["Ana", "Ben", "Chloe", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jade", "Kai", "Lea"]
    last = ["Diaz", "Evans", "Fischer", "Lopez", "Okafor", "Patel", "Rossi", "Tanaka"]
    for i, sid in enumerate(sids):
        name = f"{first[i % len(first)]} {last[i * 7 % len(last)]}"
        _put(c, f"/v1/students/{sid}", {"name": name, "grade": "7", "school_id": SCHOOL_ID})
    oids = [f"b.u{n // UNIT_SIZE + 1}.o{n % UNIT_SIZE + 1}" for n in range(objectives)]
    for n, oid in enumerate(oids):
        body = {
            "statement": f"Bench objective {n + 1}",
            "subject": "math",
            "course": COURSE,
            "unit": f"u{n // UNIT_SIZE + 1}",
            "sequence": n,
            "prerequisites": [oids[n - 1]] if n % UNIT_SIZE else [],
            "rule": RULE,
            "effective_from": "2026-08-01T00:00:00Z",
        }
        _put(c, f"/v1/objectives/{oid}", body)
    _put(
        c,
        f"/v1/classes/{CLASS_ID}",
        {"name": "Bench 7A", "school_id": SCHOOL_ID, "teacher_ids": ["t-bench"], "student_ids": sids},
    )
    events = [e for sid in sids for e in student_events(rng, sid, oids)]
    position = 0
    for i in range(0, len(events), 1_000):
        r = c.post("/v1/events", json={"events": events[i : i + 1_000]})
        if r.status_code != 200:
            raise RuntimeError(f"POST /v1/events: {r.status_code} {r.text[:300]}")
        position = r.json()["position"]
    return ClassWorld(CLASS_ID, sids, oids, len(events), position)
