"""What the bad-input tests share: the roster they write against, builders of
events that refer to earlier ones, the table of bad events, and the check of
a problem+json answer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import attempt, ledger_of, new_id, post

Event = dict[str, Any]


Loc = list[str | int]


RUBRIC = {
    "threshold": {"kind": "rubric", "levels": ["beginning", "developing", "secure"], "min_level": "secure"}
}


BAD_AT = 2  # index of the bad event in every mixed batch


def stored(c: TestClient) -> tuple[int, int, int]:
    """What the store holds: log head, indexed learning events, s1's history length."""
    store = ledger_of(c).store
    history = c.get("/v1/students/s1/history")
    assert history.status_code == 200, history.text
    return store.head_position(), store.indexed.count_index(), len(history.json()["events"])


def reflection(on: str, student: str = "s1", **extra: Any) -> Event:
    return {
        "event_id": new_id(),
        "type": "reflection",
        "student_id": student,
        "occurred_at": "2026-09-15T09:30:00-05:00",
        "on_event": on,
        "text": "I mixed up the signs",
        **extra,
    }


def override(**extra: Any) -> Event:
    return {
        "event_id": new_id(),
        "type": "override",
        "student_id": "s1",
        "occurred_at": "2026-09-15T09:30:00-05:00",
        "objective_id": "o1",
        "status": "mastered",
        "reason": "showed mastery in a conference",
        **extra,
    }


def retake(of: str, form: str = "B", **extra: Any) -> Event:
    return attempt(form=form, at="2026-09-16T09:30:00-05:00", type="retake", retake_of=of, **extra)


def _without(event: Event, key: str) -> Event:
    return {k: v for k, v in event.items() if k != key}


def in_the_future(minutes: int) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


# Each case may store what it needs first, and returns the bad event and the loc
# (after ["body", "events", index]) that must name it.
Case = Callable[[TestClient], tuple[Event, Loc]]


def _other_students_attempt(c: TestClient) -> tuple[Event, Loc]:
    theirs = attempt(student="s2")
    post(c, theirs)
    return retake(theirs["event_id"]), ["retake_of"]


def _attempt_on_other_objective(c: TestClient) -> tuple[Event, Loc]:
    on_o2 = attempt(objective="o2")
    post(c, on_o2)
    return retake(on_o2["event_id"]), ["retake_of"]


def _reflection_on_override(c: TestClient) -> tuple[Event, Loc]:
    ov = override()
    post(c, ov)
    return reflection(ov["event_id"]), ["on_event"]


def _reflection_on_reflection(c: TestClient) -> tuple[Event, Loc]:
    first = attempt()
    refl = reflection(first["event_id"])
    post(c, first, refl)
    return reflection(refl["event_id"]), ["on_event"]


CASES: dict[str, Case] = {
    "time without offset": lambda c: (attempt(at="2026-09-14T09:30:00"), ["occurred_at"]),
    "correct above total": lambda c: ({**attempt(), "score": {"correct": 11, "total": 10}}, ["score"]),
    "total zero": lambda c: ({**attempt(), "score": {"correct": 0, "total": 0}}, ["score", "total"]),
    "percent above 100": lambda c: ({**attempt(), "score": {"percent": 101}}, ["score", "percent"]),
    "two score kinds": lambda c: (
        {**attempt(), "score": {"correct": 9, "total": 10, "percent": 90}},
        ["score"],
    ),
    "no score kind": lambda c: ({**attempt(), "score": {}}, ["score"]),
    "unknown objective": lambda c: (attempt(objective="nope"), ["objective_id"]),
    "unknown student": lambda c: (attempt(student="ghost"), ["student_id"]),
    "override without reason": lambda c: (_without(override(), "reason"), ["reason"]),
    "override with blank reason": lambda c: (override(reason="   "), ["reason"]),
    "override on unknown objective": lambda c: (override(objective_id="nope"), ["objective_id"]),
    "more than 5 minutes ahead": lambda c: (attempt(at=in_the_future(10)), ["occurred_at"]),
    "retake of unknown event": lambda c: (retake(new_id()), ["retake_of"]),
    "retake of another student's attempt": _other_students_attempt,
    "retake of an attempt on another objective": _attempt_on_other_objective,
    "reflection on an override": _reflection_on_override,
    "reflection on a reflection": _reflection_on_reflection,
    "reflection with blank text": lambda c: (reflection(new_id(), text=""), ["text"]),
    "void of unknown event": lambda c: (
        {
            "event_id": new_id(),
            "type": "void",
            "student_id": "s1",
            "occurred_at": "2026-09-15T09:30:00Z",
            "target_event_id": new_id(),
            "reason": "wrong student",
        },
        ["target_event_id"],
    ),
    "unknown type": lambda c: ({**attempt(), "type": "homework"}, ["type"]),
    "missing type": lambda c: (_without(attempt(), "type"), ["type"]),
    "extra field": lambda c: (attempt(mood="happy"), ["mood"]),
    "extra field in score": lambda c: (
        {**attempt(), "score": {"correct": 1, "total": 2, "x": 1}},
        ["score", "x"],
    ),
    "event_id not a uuid": lambda c: ({**attempt(), "event_id": "42"}, ["event_id"]),
    "rubric level not in the rule": lambda c: (
        {**attempt(objective="r1"), "score": {"rubric_level": "excellent"}},
        ["score", "rubric_level"],
    ),
    "rubric level on a correct_of rule": lambda c: (
        {**attempt(), "score": {"rubric_level": "secure"}},
        ["score", "rubric_level"],
    ),
}


def assert_problem(r: Any, status: int) -> list[dict[str, Any]]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    errors: list[dict[str, Any]] = body.get("errors", [])
    assert all(isinstance(e["msg"], str) and e["msg"] for e in errors), errors
    return errors
