"""Reads as a teacher reads them (issue 13, item 6): explain names the
benchmark behind its flag, an override shows no score of its own, scores read
as a level or a rounded percent, times in one format, and a goal's projection
never promises objectives that do not exist. Both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import RULE_9_OF_10, attempt, new_id, post, seed_roster

LEVELS = ["beginning", "developing", "secure"]
RUBRIC = {"threshold": {"kind": "rubric", "levels": LEVELS, "min_level": "secure"}}
PERCENT_80 = {"threshold": {"kind": "percent", "min": 80}}


def _event(kind: str, at: str, **fields: Any) -> dict[str, Any]:
    return {"event_id": new_id(), "type": kind, "student_id": "s1", "occurred_at": at, **fields}


def _get(c: TestClient, url: str, position: int, **params: str) -> Any:
    r = c.get(url, params={"min_position": position, **params})
    assert r.status_code == 200, r.text
    return r.json()


def _row(body: dict[str, Any], oid: str) -> dict[str, Any]:
    return next(o for o in body["objectives"] if o["objective_id"] == oid)


def test_explain_names_the_benchmark_behind_its_flag(client: TestClient) -> None:
    seed_roster(client, objectives={"o1": RULE_9_OF_10, "o2": RULE_9_OF_10})
    quiz = attempt("s1", "o1", correct=10, at="2026-09-01T09:00:00Z")
    other = attempt("s1", "o2", correct=10, at="2026-09-01T09:00:00Z")
    bench = _event(
        "benchmark",
        "2026-09-10T09:00:00-05:00",
        benchmark_id="interim-1",
        name="Interim 1",
        results=[{"objective_id": "o1", "correct": 7, "total": 9}],
    )
    position = post(client, quiz, other, bench)["position"]

    explain = _get(client, "/v1/students/s1/objectives/o1/explain", position)
    assert explain["flags"] == ["benchmark_disagrees"]
    assert explain["benchmark"] == {
        "kind": "benchmark_below_mastery",
        "event_id": bench["event_id"],
        "benchmark_id": "interim-1",
        "name": "Interim 1",
        "occurred_at": "2026-09-10T09:00:00-05:00",
        "correct": 7,
        "total": 9,
        "percent": 77.8,
        "sentence": "The benchmark Interim 1 of 2026-09-10 scored 7/9 (77.8 %) on this objective's items, "
        "below the threshold, while the status is mastered.",
    }
    # No flag, no benchmark.
    assert _get(client, "/v1/students/s1/objectives/o2/explain", position)["benchmark"] is None
    # The contradictions read rounds its percent the same way.
    found = _get(client, "/v1/contradictions", position, class_id="c1")
    assert [x["benchmark_percent"] for x in found] == [77.8]


def test_an_override_shows_no_score_of_its_own(client: TestClient) -> None:
    seed_roster(client)
    miss = attempt("s1", "o1", correct=5, at="2026-09-01T09:00:00Z")
    override = _event(
        "override",
        "2026-09-02T09:00:00Z",
        objective_id="o1",
        status="mastered",
        reason="showed it in conference",
    )
    position = post(client, miss, override)["position"]

    for params in ({}, {"as_of": "2026-10-01T00:00:00Z"}):  # the read model, and a replay
        row = _row(_get(client, "/v1/students/s1/mastery", position, **params), "o1")
        assert (row["status"], row["source"], row["score"], row["score_display"]) == (
            "mastered",
            "override",
            None,
            None,
        )
    explain = _get(client, "/v1/students/s1/objectives/o1/explain", position)
    assert (explain["source"], explain["score"], explain["score_display"]) == ("override", None, None)
    # The evidence keeps its own score, beside the override that decides.
    assert [line["score"] for line in explain["evidence"]] == ["5/10"]
    # Times in the format of every other time in the API: Z for UTC.
    assert explain["overrides"][0]["occurred_at"] == "2026-09-02T09:00:00Z"


def test_scores_read_as_a_level_or_a_rounded_percent(client: TestClient) -> None:
    seed_roster(client, objectives={"o1": RUBRIC, "o2": PERCENT_80})
    level = attempt("s1", "o1", at="2026-09-01T09:00:00Z")
    level["score"] = {"rubric_level": "developing"}
    pct = attempt("s1", "o2", at="2026-09-01T10:00:00Z")
    pct["score"] = {"percent": 83.33333}
    reflection = _event("reflection", "2026-09-01T11:00:00Z", on_event=pct["event_id"], text="checked signs")
    position = post(client, level, pct, reflection)["position"]

    for params in ({}, {"as_of": "2026-10-01T00:00:00Z"}):
        body = _get(client, "/v1/students/s1/mastery", position, **params)
        assert (_row(body, "o1")["score"], _row(body, "o1")["score_display"]) == (0.5, "developing")
        assert _row(body, "o2")["score_display"] == "83.3 %"
    rubric = _get(client, "/v1/students/s1/objectives/o1/explain", position)
    assert rubric["score_display"] == "developing"
    assert rubric["evidence"][0]["score"] == "developing"
    assert "score 'developing' is below rubric level 'secure'" in rubric["evidence"][0]["reason"]
    percent = _get(client, "/v1/students/s1/objectives/o2/explain", position)
    assert percent["score_display"] == "83.3 %" and percent["evidence"][0]["score"] == "83.3 %"
    assert percent["evidence"][0]["reflections"][0]["occurred_at"] == "2026-09-01T11:00:00Z"
    # The class's groups show a member's score the same way.
    groups = _get(client, "/v1/classes/c1/groups", position)["groups"]
    reteach = {g["objective_id"]: g["reteach"][0] for g in groups}
    assert (reteach["o1"]["score"], reteach["o1"]["score_display"]) == (0.5, "developing")


def test_a_goal_projects_no_more_than_the_objectives_of_the_students_courses(client: TestClient) -> None:
    seed_roster(client, objectives={f"o{i}": RULE_9_OF_10 for i in range(1, 4)})  # algebra-1
    for i in range(5):  # a course the student has nothing in
        body = {
            "statement": f"Geometry {i}",
            "subject": "math",
            "course": "geometry",
            "unit": "u1",
            "rule": RULE_9_OF_10,
            "effective_from": "2026-08-01T00:00:00Z",
        }
        assert client.put(f"/v1/objectives/g{i}", json=body).status_code == 201
    week_ago = (datetime.now(UTC) - timedelta(days=7)).isoformat()
    due = (datetime.now(UTC) + timedelta(days=70)).date()
    position = post(
        client,
        attempt("s1", "o1", correct=10, at=week_ago),
        attempt("s1", "o2", correct=10, at=week_ago),
        _event("goal", week_ago, target_mastered=4, due=str(due)),
    )["position"]

    t = _get(client, "/v1/students/s1/trajectory", position)
    assert t["rate_per_week"] == 2.0  # 2 + 2 a week for 10 weeks would be 22
    assert t["goal"]["projected_at_due"] == 3.0  # the 3 objectives of algebra-1, not the catalog's 8
    assert t["goal"]["on_track"] is False
