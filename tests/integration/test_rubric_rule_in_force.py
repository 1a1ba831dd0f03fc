"""A rubric level is checked against the rule in force when the event occurred
(issue 13): a rubric that changes its levels from a date on does not refuse an
earlier event that uses the levels of its day, and does refuse one that uses
levels not yet (or no longer) in force."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import attempt, ledger_of, post, seed_roster

OLD = {
    "threshold": {"kind": "rubric", "levels": ["beginning", "developing", "secure"], "min_level": "secure"}
}
NEW = {
    "threshold": {"kind": "rubric", "levels": ["novice", "proficient", "expert"], "min_level": "proficient"}
}
BEFORE, AFTER = "2026-09-14T09:30:00-05:00", "2026-10-14T09:30:00-05:00"


def rubric(level: str, at: str) -> dict[str, Any]:
    return {**attempt(objective="r1", at=at), "score": {"rubric_level": level}}


def revise_from_october(c: TestClient) -> None:
    seed_roster(c, objectives={"r1": OLD})
    body = {
        "statement": "Objective r1",
        "subject": "math",
        "course": "algebra-1",
        "unit": "u1",
        "rule": NEW,
        "effective_from": "2026-10-01T00:00:00Z",
    }
    r = c.put("/v1/objectives/r1", json=body)
    assert r.status_code == 200, r.text


def test_a_level_of_the_rule_in_force_then_is_accepted(client: TestClient) -> None:
    revise_from_october(client)
    posted = post(client, rubric("secure", BEFORE), rubric("proficient", AFTER))
    assert len(posted["results"]) == 2, posted
    history = client.get("/v1/students/s1/history", params={"min_position": posted["position"]})
    assert [e["payload"]["score"]["rubric_level"] for e in history.json()["events"]] == [
        "secure",
        "proficient",
    ]


def test_a_level_of_another_version_is_refused_and_nothing_stored(client: TestClient) -> None:
    revise_from_october(client)
    head = ledger_of(client).store.head_position()
    for level, at in (("proficient", BEFORE), ("secure", AFTER)):
        r = client.post("/v1/events", json={"events": [rubric(level, at)]})
        assert r.status_code == 422, r.text
        (problem,) = r.json()["errors"]
        assert problem["loc"] == ["body", "events", 0, "score", "rubric_level"]
        assert "is not one of the rule's levels" in problem["msg"]
    assert ledger_of(client).store.head_position() == head
