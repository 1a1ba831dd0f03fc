"""A seeded mix of every event type over objectives of every calculation
method, and the roster it needs, for the e2e tests of `mastery serve`."""

from __future__ import annotations

import random
from typing import Any

import httpx

from tests.e2e.serve_process import Event, ok
from tests.helpers import RULE_9_OF_10, attempt, new_id, objective_body

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


def seed(http: httpx.Client, students: list[str]) -> int:
    ok(http.put("/v1/schools/sch1", json={"name": "Lincoln Middle"}), 200, 201)
    for s in students:
        ok(
            http.put(f"/v1/students/{s}", json={"name": f"Student {s}", "grade": "7", "school_id": "sch1"}),
            200,
            201,
        )
    for oid, rule in OBJECTIVES.items():
        ok(http.put(f"/v1/objectives/{oid}", json=objective_body(oid, rule)), 200, 201)
    out = ok(
        http.put("/v1/classes/c1", json={"name": "7B", "school_id": "sch1", "student_ids": students}),
        200,
        201,
    )
    return int(out["position"])


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
