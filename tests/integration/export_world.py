"""A small district for the export tests: two schools, three grades, a
student in two classes and one in none, objectives of every threshold kind
(one rubric whose levels change with a new rule version), attempts of every
score kind, a benchmark on two objectives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import attempt, new_id, post

SCHOOLS = {"sch1": "Lincoln Middle", "sch2": "Adams High"}
# student -> (name, grade, school)
STUDENTS = {
    "s1": ("Ana Lima", "7", "sch1"),
    "s2": ("Ben Okafor", "8", "sch1"),
    "s3": ("Chloé Dubois", "9", "sch2"),
    "s4": ("Dev Patel", "7", "sch1"),  # in no class, no events
}
# class -> (name, school, students)
CLASSES = {
    "c1": ("Math 7/8", "sch1", ["s1", "s2"]),
    "c2": ("Writing 7", "sch1", ["s1"]),
    "c3": ("Algebra 9", "sch2", ["s3"]),
}
RUBRIC_V1 = ["beginning", "developing", "proficient", "advanced"]
RUBRIC_V2 = ["novice", "proficient", "expert"]


def objective(
    statement: str, subject: str, course: str, unit: str, sequence: int, rule: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return {
        "statement": statement,
        "subject": subject,
        "course": course,
        "unit": unit,
        "sequence": sequence,
        "rule": rule,
        "effective_from": "2025-08-01T00:00:00Z",
        **extra,
    }


OBJECTIVES = {
    "o1": objective(
        "Solve one-step equations",
        "math",
        "algebra-1",
        "u1",
        1,
        {"threshold": {"kind": "correct_of", "min_correct": 4, "of": 5}},
    ),
    "o2": objective(
        "Solve two-step equations",
        "math",
        "algebra-1",
        "u2",
        2,
        {"threshold": {"kind": "percent", "min": 80}},
        prerequisites=["o1"],
    ),
    "o3": objective(
        "Write a claim with evidence",
        "ela",
        "writing-7",
        "essays",
        1,
        {"threshold": {"kind": "rubric", "levels": RUBRIC_V1, "min_level": "proficient"}},
    ),
}
# o3's second rule version: other levels, in force from 2026-01-01.
O3_V2 = {
    **OBJECTIVES["o3"],
    "rule": {"threshold": {"kind": "rubric", "levels": RUBRIC_V2, "min_level": "proficient"}},
    "effective_from": "2026-01-01T00:00:00Z",
}


@dataclass
class World:
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    position: int = 0


def put(c: TestClient, path: str, body: dict[str, Any]) -> None:
    r = c.put(path, json=body)
    assert r.status_code in (200, 201), r.text


def roster(c: TestClient) -> None:
    for sid, name in SCHOOLS.items():
        put(c, f"/v1/schools/{sid}", {"name": name})
    for sid, (name, grade, school) in STUDENTS.items():
        put(c, f"/v1/students/{sid}", {"name": name, "grade": grade, "school_id": school})
    for oid, body in OBJECTIVES.items():
        put(c, f"/v1/objectives/{oid}", body)
    for cid, (name, school, members) in CLASSES.items():
        put(c, f"/v1/classes/{cid}", {"name": name, "school_id": school, "student_ids": members})


def build(c: TestClient) -> World:
    roster(c)
    w = World()
    w.events = {
        "s1_o1": attempt("s1", "o1", correct=4, total=5, at="2025-09-10T09:00:00-04:00"),
        "s1_o2": {
            **attempt("s1", "o2", at="2025-09-11T09:00:00-04:00"),
            "score": {"percent": 85},
        },
        "s1_o3_v1": {
            **attempt("s1", "o3", at="2025-10-01T10:00:00Z"),
            "score": {"rubric_level": "developing"},
        },
        "s1_o3_v2": {**attempt("s1", "o3", at="2026-02-01T10:00:00Z"), "score": {"rubric_level": "expert"}},
        "s2_o1": attempt("s2", "o1", correct=3, total=5, at="2026-03-01T10:00:00Z"),
        "s3_bench": {
            "event_id": new_id(),
            "type": "benchmark",
            "student_id": "s3",
            "occurred_at": "2026-03-05T00:00:00Z",
            "benchmark_id": "interim-1",
            "name": "Interim 1",
            "results": [
                {"objective_id": "o1", "correct": 4, "total": 5},
                {"objective_id": "o2", "correct": 1, "total": 4},
            ],
        },
        "s3_o1": attempt("s3", "o1", correct=5, total=5, at="2026-03-10T10:00:00Z"),
    }
    w.events["s2_reflection"] = {
        "event_id": new_id(),
        "type": "reflection",
        "student_id": "s2",
        "occurred_at": "2026-03-02T10:00:00Z",
        "on_event": w.events["s2_o1"]["event_id"],
        "text": "I rushed the last two",
    }
    # Ingest checks a rubric level against the objective's latest rule: the
    # 2025 level goes in before the 2026 version is issued.
    first_year = [w.events[n] for n in ("s1_o1", "s1_o2", "s1_o3_v1")]
    post(c, *first_year)
    put(c, "/v1/objectives/o3", O3_V2)
    w.position = post(c, *(e for e in w.events.values() if e not in first_year))["position"]
    return w
