"""The hostile-input corpus's vocabulary (issue 10): a `Case` (a request and
the answer it must get), raw bodies the json module would not write, and
builders of valid requests that a case changes one field of.
tests/integration/hostile_corpus_*.py hold the cases; test_hostile_input.py
sends them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tests.helpers import (
    RULE_9_OF_10,
    attempt,
    new_id,
)

LEVELS = ["beginning", "developing", "secure"]
RUBRIC = {"threshold": {"kind": "rubric", "levels": LEVELS, "min_level": "secure"}}
PERCENT = {"threshold": {"kind": "percent", "min": 80}}
MAX_COUNT = 1_000_000
SAFE = 2**53 - 1
DEPTH_MSG = "JSON nested deeper than 32 levels"
# Printable, though odd: accents, CJK, an astral emoji, right-to-left letters,
# a combining mark, a non-breaking hyphen; an inner space.
ODD = "é中😀 שלום\u0301‑Ω"


@dataclass(frozen=True)
class Raw:
    """A body sent as these bytes: the json module would not write NaN as a
    client may, nor can a dict say "nested 1,000 deep"."""

    text: str


@dataclass(frozen=True)
class Case:
    method: str
    url: str
    body: Any = None  # a JSON value, a Raw body, or None for no body
    params: dict[str, Any] = field(default_factory=dict)
    status: int = 422
    loc: list[Any] | None = None  # the field a refusal must name
    msg: str | None = None  # what its message must say, where that is the point


def raw(value: Any, **literals: str) -> Raw:
    """`value` as JSON with each string "<name>" replaced by a literal (NaN, 1e309)."""
    text = json.dumps(value)
    for name, literal in literals.items():
        text = text.replace(json.dumps(f"<{name}>"), literal)
    return Raw(text)


def events(*evs: dict[str, Any]) -> dict[str, Any]:
    return {"events": list(evs)}


def ev(**fields: Any) -> dict[str, Any]:
    """An attempt of s1 on o1, with these fields instead."""
    return {**attempt(), **fields}


def loc(*path: Any) -> list[Any]:
    """The loc of a field of the only event of a batch."""
    return ["body", "events", 0, *path]


def reflection(**fields: Any) -> dict[str, Any]:
    return {
        "event_id": new_id(),
        "type": "reflection",
        "student_id": "s1",
        "occurred_at": "2026-09-15T09:30:00Z",
        "on_event": EARLIER,
        "text": "I mixed up the signs",
        **fields,
    }


def override(**fields: Any) -> dict[str, Any]:
    return {
        "event_id": new_id(),
        "type": "override",
        "student_id": "s1",
        "occurred_at": "2026-09-15T09:30:00Z",
        "objective_id": "o1",
        "status": "mastered",
        "reason": "conference",
        **fields,
    }


def benchmark(results: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return {
        "event_id": new_id(),
        "type": "benchmark",
        "student_id": "s1",
        "occurred_at": "2026-09-15T09:30:00Z",
        "benchmark_id": "interim-1",
        "name": "Interim 1",
        "results": results,
        **fields,
    }


def goal(**fields: Any) -> dict[str, Any]:
    return {
        "event_id": new_id(),
        "type": "goal",
        "student_id": "s1",
        "occurred_at": "2026-09-15T09:30:00Z",
        "target_mastered": 10,
        "due": "2027-06-15",
        **fields,
    }


def void(**fields: Any) -> dict[str, Any]:
    return {
        "event_id": new_id(),
        "type": "void",
        "student_id": "s1",
        "occurred_at": "2026-09-15T09:30:00Z",
        "target_event_id": EARLIER,
        "reason": "entered twice",
        **fields,
    }


def objective(**fields: Any) -> dict[str, Any]:
    return {
        "statement": "Solve one-step linear equations",
        "subject": "math",
        "course": "algebra-1",
        "unit": "u2",
        "rule": RULE_9_OF_10,
        **fields,
    }


def rule(**fields: Any) -> dict[str, Any]:
    return objective(rule=fields)


def nested(levels: int) -> Raw:
    """A batch body whose JSON is `levels` deep: the object, then arrays in `events`."""
    return Raw('{"events": ' + "[" * (levels - 1) + "]" * (levels - 1) + "}")


def deep_item(levels: int) -> dict[str, Any]:
    """An `items` entry `levels` deep (the entry itself is the first)."""
    value: Any = 1
    for _ in range(levels - 1):
        value = [value]
    return {"n": value}


def student(**fields: Any) -> dict[str, Any]:
    return {"name": "Ann Lee", "grade": "7", "school_id": "sch1", **fields}


def klass(**fields: Any) -> dict[str, Any]:
    return {"name": "7B", "school_id": "sch1", **fields}


EARLIER = "00000000-0000-4000-8000-000000000001"  # an attempt of s1 on o1, stored by the setup
MASTERY = "/v1/students/s1/mastery"
PREREQUISITES = [f"p{i:03d}" for i in range(100)]
WHEN = "2026-09-14T09:30:00-05:00"


EARLIER = "00000000-0000-4000-8000-000000000001"  # an attempt of s1 on o1, stored by the setup
MASTERY = "/v1/students/s1/mastery"
PREREQUISITES = [f"p{i:03d}" for i in range(100)]
WHEN = "2026-09-14T09:30:00-05:00"
