"""What the mastery-rule tests over HTTP share: rules, builders of the
events that refer to earlier ones (retakes, reflections, overrides, voids),
and reads of o1's status, explain and history."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import attempt, mastery, new_id

TIMED_9_OF_10: dict[str, Any] = {
    "threshold": {"kind": "correct_of", "min_correct": 9, "of": 10},
    "time_limit_seconds": 600,
}


LENIENT = {"threshold": {"kind": "correct_of", "min_correct": 7, "of": 10}}


STRICT = {"threshold": {"kind": "correct_of", "min_correct": 9, "of": 10}}


def retake(of: dict[str, Any], correct: int, at: str, form: str, **extra: Any) -> dict[str, Any]:
    return {
        **attempt(correct=correct, at=at, form=form, **extra),
        "type": "retake",
        "retake_of": of["event_id"],
    }


def reflection(on: dict[str, Any], at: str, text: str = "I dropped the negative sign") -> dict[str, Any]:
    return {
        "event_id": new_id(),
        "type": "reflection",
        "student_id": "s1",
        "occurred_at": at,
        "on_event": on["event_id"],
        "text": text,
        "error_analysis": [{"item": 4, "cause": "sign error"}],
    }


def override(status: str, at: str, reason: str = "showed it in conference") -> dict[str, Any]:
    return {
        "event_id": new_id(),
        "type": "override",
        "student_id": "s1",
        "occurred_at": at,
        "objective_id": "o1",
        "status": status,
        "reason": reason,
    }


def void(target: dict[str, Any], at: str) -> dict[str, Any]:
    return {
        "event_id": new_id(),
        "type": "void",
        "student_id": "s1",
        "occurred_at": at,
        "target_event_id": target["event_id"],
        "reason": "entered twice",
    }


def o1(c: TestClient, position: int, **params: str) -> dict[str, Any]:
    (only,) = mastery(c, "s1", position, **params)["objectives"]
    assert only["objective_id"] == "o1"
    found: dict[str, Any] = only
    return found


def get(c: TestClient, path: str, **params: str) -> dict[str, Any]:
    r = c.get(path, params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def explain(c: TestClient, **params: str) -> dict[str, Any]:
    return get(c, "/v1/students/s1/objectives/o1/explain", **params)


def history(c: TestClient, **params: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = get(c, "/v1/students/s1/history", **params)["events"]
    return events


def put_rule(c: TestClient, rule: dict[str, Any], effective_from: str) -> int:
    body = {
        "statement": "Objective o1",
        "subject": "math",
        "course": "algebra-1",
        "unit": "u1",
        "rule": rule,
        "effective_from": effective_from,
    }
    r = c.put("/v1/objectives/o1", json=body)
    assert r.status_code in (200, 201), r.text
    position: int = r.json()["position"]
    return position
