"""The amount of learning week by week, by class in a school and by school in
the district (GET /v1/schools/{id}/summary/weekly, /v1/district/summary/weekly):
the same population, weeks and suppression as the summaries."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import bearer, seed_summary_school


def _get(c: TestClient, url: str, position: int, headers: dict[str, str] | None = None) -> Any:
    r = c.get(url, params={"min_position": position}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def _put(c: TestClient, url: str, body: dict[str, Any]) -> None:
    assert c.put(url, json=body).status_code in (200, 201)


def test_weekly_learning_by_class_and_by_school_suppresses_small_units(client: TestClient) -> None:
    pos = seed_summary_school(client)

    analyst = bearer(client, "analyst")
    r = client.get("/v1/schools/sch1/summary/weekly", params={"min_position": pos}, headers=analyst)
    assert r.status_code == 200, r.text
    assert "learner-" not in r.text and "eighth-" not in r.text  # names no student
    body = r.json()
    summary = _get(client, "/v1/schools/sch1/summary", pos)
    assert body["weeks"] == summary["weeks"] == ["2026-09-14", "2026-09-21"]
    assert (body["measure"], body["min_cell_size"]) == (summary["measure"], 10)
    assert body["units"] == [
        {
            "kind": "class",
            "id": "c1",
            "name": "7B",
            "suppressed": False,
            "students": 12,
            "weeks": [
                {"week": "2026-09-14", "mastered": 12, "mastered_per_student": 1.0},
                {"week": "2026-09-21", "mastered": 6, "mastered_per_student": 0.5},
            ],
        },
        {
            "kind": "class",
            "id": "c8",
            "name": "8A",
            "suppressed": True,
            "students": None,
            "weeks": [
                {"week": "2026-09-14", "mastered": None, "mastered_per_student": None},
                {"week": "2026-09-21", "mastered": None, "mastered_per_student": None},
            ],
        },
    ]
    # The weeks add up to the summary's breakdown of the same class.
    c1 = next(u for u in summary["breakdown"] if u["id"] == "c1")
    assert sum(w["mastered"] for w in body["units"][0]["weeks"]) == c1["mastered"]

    d = _get(client, "/v1/district/summary/weekly", pos)
    assert d["school_id"] is None and [u["kind"] for u in d["units"]] == ["school", "school"]
    by_school = {u["id"]: u for u in d["units"]}
    assert by_school["sch1"]["students"] == 15
    assert [w["mastered"] for w in by_school["sch1"]["weeks"]] == [15, 6]
    assert by_school["sch2"]["suppressed"] is True
    assert all(w["mastered"] is None for w in by_school["sch2"]["weeks"])

    # Who may read it: as the summaries.
    assert client.get("/v1/schools/nope/summary/weekly").status_code == 404
    lincoln = bearer(client, "leader", "school:sch1")
    assert _get(client, "/v1/schools/sch1/summary/weekly", pos, lincoln)["units"] == body["units"]
    assert client.get("/v1/schools/sch2/summary/weekly", headers=lincoln).status_code == 404
    assert client.get("/v1/district/summary/weekly", headers=lincoln).status_code == 200
    for role, scopes in (("teacher", ["class:c1"]), ("student", ["learner-00"]), ("ingest", [])):
        h = bearer(client, role, *[f"student:{s}" if role == "student" else s for s in scopes])
        assert client.get("/v1/schools/sch1/summary/weekly", headers=h).status_code == 403, role
        assert client.get("/v1/district/summary/weekly", headers=h).status_code == 403, role
