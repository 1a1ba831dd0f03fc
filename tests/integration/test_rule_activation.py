"""A rule version dated in the future takes over the read model when its time comes."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from tests.helpers import attempt, mastery, post, seed_roster

LENIENT = {"threshold": {"kind": "correct_of", "min_correct": 5, "of": 10}}
STRICT = {"threshold": {"kind": "correct_of", "min_correct": 9, "of": 10}}


def test_future_rule_version_applies_when_it_comes_into_force(client: TestClient) -> None:
    seed_roster(client, objectives={"o1": LENIENT})
    out = post(client, attempt(correct=7, at="2026-09-14T09:30:00Z"))
    assert mastery(client, "s1", out["position"])["objectives"][0]["status"] == "mastered"

    soon = datetime.now(UTC) + timedelta(seconds=2)
    body = {
        "statement": "Objective o1",
        "subject": "math",
        "course": "algebra-1",
        "unit": "u1",
        "rule": STRICT,
        "effective_from": soon.isoformat(),
    }
    position = client.put("/v1/objectives/o1", json=body).json()["position"]
    # Recorded, but not yet in force: the present is unchanged.
    assert mastery(client, "s1", position)["objectives"][0]["status"] == "mastered"

    deadline = time.monotonic() + 10
    status = "mastered"
    while time.monotonic() < deadline and status == "mastered":
        time.sleep(0.25)
        status = mastery(client, "s1", position)["objectives"][0]["status"]
    assert status == "in_progress"
    assert datetime.now(UTC) >= soon
    # The past keeps the rule that was in force then.
    earlier = mastery(client, "s1", position, as_of="2026-09-20T00:00:00Z")["objectives"][0]
    assert earlier["status"] == "mastered"
