"""Read models beyond current mastery (issue #5): trajectories, class map /
next / groups, school and district summaries. Both stores and the
distributed deployment (contradictions: test_contradictions.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from domain.growth import week_start
from tests.helpers import (
    RULE_9_OF_10,
    attempt,
    bearer,
    post,
    seed_roster,
    seed_summary_school,
)
from tests.integration.read_models_support import FIT, benchmark, days_ago, event_of, get_at, put_objective


def test_trajectory_counts_weeks_and_projects_goals(client: TestClient) -> None:
    seed_roster(client, students=("s1",), objectives={f"o{i}": RULE_9_OF_10 for i in range(1, 5)})
    pos = post(
        client,
        attempt("s1", "o1", correct=10, at=days_ago(21)),
        attempt("s1", "o2", correct=10, at=days_ago(7)),
        attempt("s1", "o4", correct=10, at=days_ago(10)),
        attempt("s1", "o4", correct=2, at=days_ago(3)),  # mastered, then lost: counts in no week
        event_of(
            "goal",
            "s1",
            days_ago(20),
            target_mastered=5,
            due=str((datetime.now(UTC) + timedelta(days=28)).date()),
        ),
    )["position"]
    t = get_at(client, "/v1/students/s1/trajectory", pos, interval="week")
    today = datetime.now(UTC).date()
    starts = [p["period_start"] for p in t["points"]]
    assert starts[0] == str(week_start((datetime.now(UTC) - timedelta(days=21)).date()))
    assert starts[-1] == str(week_start(today))
    assert [p["mastered_total"] for p in t["points"]] == [1, 1, 2, 2]
    assert t["rate_per_week"] == round(2 / 3, 3)
    assert t["goal"]["target_mastered"] == 5 and t["goal"]["on_track"] is False
    # 2 + (2/3) * 4 weeks would be 4.67: more than the 4 objectives of the course.
    assert t["goal"]["projected_at_due"] == 4.0

    # A quiz that arrives late lands in its own week; a newer goal replaces the old.
    late = attempt("s1", "o3", correct=10, at=days_ago(14))
    goal2 = event_of("goal", "s1", days_ago(1), target_mastered=6, due=str(today + timedelta(days=28)))
    pos = post(client, late, goal2)["position"]
    t = get_at(client, "/v1/students/s1/trajectory", pos)
    assert [p["mastered_total"] for p in t["points"]] == [1, 2, 3, 3]
    assert t["rate_per_week"] == 1.0
    assert t["goal"] == {
        "target_mastered": 6,
        "due": str(today + timedelta(days=28)),
        "projected_at_due": 4.0,  # 3 + 1 a week for 4 weeks is 7, but the course has 4 objectives
        "on_track": False,
    }

    # Voiding the newer goal brings back the older one; voiding the quiz takes its week back.
    pos = post(
        client,
        event_of("void", "s1", days_ago(0), target_event_id=goal2["event_id"], reason="typo"),
        event_of("void", "s1", days_ago(0), target_event_id=late["event_id"], reason="wrong student"),
    )["position"]
    t = get_at(client, "/v1/students/s1/trajectory", pos)
    assert t["goal"]["target_mastered"] == 5
    assert [p["mastered_total"] for p in t["points"]] == [1, 1, 2, 2]

    assert client.get("/v1/students/s1/trajectory", params={"interval": "fortnight"}).status_code == 422
    assert client.get("/v1/students/nobody/trajectory").status_code == 404
    assert (
        client.get("/v1/students/s1/trajectory", headers=bearer(client, "student", "student:s2")).status_code
        == 404
    )
    assert client.get("/v1/students/s1/trajectory", headers=bearer(client, "analyst")).status_code == 403
    own = client.get("/v1/students/s1/trajectory", headers=bearer(client, "student", "student:s1"))
    assert own.status_code == 200 and own.json()["student_id"] == "s1"


def test_class_map_next_and_groups(client: TestClient) -> None:
    seed_roster(client, students=("s1", "s2", "s3", "s4"), objectives={"o1": RULE_9_OF_10})
    put_objective(client, "o2", 2, ["o1"])
    put_objective(client, "o3", 3, ["o2"])
    put_objective(client, "o9", 9, ["o1", "o3"])
    bad = attempt("s3", "o2", correct=3, at="2026-09-03T09:00:00Z")
    pos = post(
        client,
        attempt("s1", "o1", correct=10, at="2026-09-01T09:00:00Z"),
        attempt("s1", "o2", correct=4, at="2026-09-02T09:00:00Z"),
        attempt("s2", "o1", correct=10, at="2026-09-01T09:00:00Z"),
        attempt("s2", "o2", correct=10, at="2026-09-02T09:00:00Z"),
        attempt("s3", "o1", correct=2, at="2026-09-01T09:00:00Z"),
        bad,
        attempt("s4", "o1", correct=10, at="2026-09-01T09:00:00Z"),
        benchmark("s4", "2026-09-05T09:00:00Z", [("o1", 1, 10)]),
    )["position"]
    # s3's o2 quiz was another student's: voided, it no longer makes s3 part of a group.
    pos = post(
        client, event_of("void", "s3", "2026-09-04T09:00:00Z", target_event_id=bad["event_id"], reason="x")
    )["position"]

    m = get_at(client, "/v1/classes/c1/mastery-map", pos)
    assert [o["objective_id"] for o in m["objectives"]] == ["o1", "o2", "o3", "o9"]
    grid = {r["student_id"]: {k: v["status"] for k, v in r["statuses"].items()} for r in m["students"]}
    assert grid["s1"] == {"o1": "mastered", "o2": "in_progress", "o3": "not_started", "o9": "not_started"}
    assert grid["s2"]["o2"] == "mastered" and grid["s3"]["o1"] == "in_progress"
    assert grid["s3"]["o2"] == "not_started"  # the voided quiz counts for nothing
    s4 = next(r for r in m["students"] if r["student_id"] == "s4")
    assert s4["statuses"]["o1"]["flags"] == ["benchmark_disagrees"] and s4["mastered"] == 1

    nxt = {s["student_id"]: s["objectives"] for s in get_at(client, "/v1/classes/c1/next", pos)["students"]}
    assert nxt == {"s1": ["o2"], "s2": ["o3"], "s3": ["o1"], "s4": ["o2"]}

    groups = {g["objective_id"]: g for g in get_at(client, "/v1/classes/c1/groups", pos)["groups"]}
    assert set(groups) == {"o1", "o2"}
    assert [s["student_id"] for s in groups["o1"]["reteach"]] == ["s3"]
    # s4's mastery is contradicted by its benchmark: not offered as a tutor.
    assert [s["student_id"] for s in groups["o1"]["peer_tutors"]] == ["s1", "s2"]
    assert [s["student_id"] for s in groups["o2"]["reteach"]] == ["s1"]
    assert [s["student_id"] for s in groups["o2"]["peer_tutors"]] == ["s2"]

    for path in ("mastery-map", "next", "groups"):
        url = f"/v1/classes/c1/{path}"
        assert client.get(url, headers=bearer(client, "teacher", "class:c1")).status_code == 200
        assert client.get(url, headers=bearer(client, "auditor")).status_code == 200
        assert client.get(url, headers=bearer(client, "teacher", "class:c2")).status_code == 404
        assert client.get(f"/v1/classes/nope/{path}").status_code == 404
        for role in ("student", "guardian", "analyst", "ingest"):
            assert client.get(url, headers=bearer(client, role, *FIT[role])).status_code == 403, role


def test_school_and_district_summaries_suppress_small_cells(client: TestClient) -> None:
    pos = seed_summary_school(client)

    analyst = bearer(client, "analyst")
    r = client.get("/v1/schools/sch1/summary", params={"min_position": pos}, headers=analyst)
    assert r.status_code == 200, r.text
    body = r.json()
    assert "learner-" not in r.text and "eighth-" not in r.text  # no student ids for an analyst
    assert body["weeks"] == ["2026-09-14", "2026-09-21"]
    g7 = next(g for g in body["groups"] if g["grade"] == "7")
    assert g7 == {
        "grade": "7",
        "subject": "math",
        "suppressed": False,
        "students": 12,
        "mastered": 18,
        "in_progress": 6,
        "mastered_per_student": 1.5,
        "mastered_per_student_per_week": 0.75,
    }
    cells7 = [
        (c["week"], c["mastered"], c["mastered_per_student"]) for c in body["cells"] if c["grade"] == "7"
    ]
    assert cells7 == [("2026-09-14", 12, 1.0), ("2026-09-21", 6, 0.5)]
    g8 = next(g for g in body["groups"] if g["grade"] == "8")
    assert g8["suppressed"] is True and g8["students"] is None and g8["mastered"] is None
    assert all(c["suppressed"] and c["mastered"] is None for c in body["cells"] if c["grade"] == "8")
    # The amount of learning by class: 7B's twelve students, 8A's three suppressed.
    assert body["breakdown"] == [
        {
            "kind": "class",
            "id": "c1",
            "name": "7B",
            "suppressed": False,
            "students": 12,
            "mastered": 18,
            "mastered_per_student": 1.5,
            "mastered_per_student_per_week": 0.75,
        },
        {
            "kind": "class",
            "id": "c8",
            "name": "8A",
            "suppressed": True,
            "students": None,
            "mastered": None,
            "mastered_per_student": None,
            "mastered_per_student_per_week": None,
        },
    ]

    # The district adds sch2's grade-7 student to the same cell.
    d = get_at(client, "/v1/district/summary", pos)
    d7 = next(g for g in d["groups"] if g["grade"] == "7")
    assert d7["students"] == 13 and d7["mastered"] == 19 and d["school_id"] is None
    # And by school: sch1's fifteen students, sch2's one suppressed.
    by_school = {u["id"]: u for u in d["breakdown"]}
    assert [u["kind"] for u in d["breakdown"]] == ["school", "school"]
    assert (by_school["sch1"]["students"], by_school["sch1"]["mastered"]) == (15, 21)
    assert by_school["sch1"]["mastered_per_student_per_week"] == 0.7
    assert by_school["sch2"]["suppressed"] is True and by_school["sch2"]["mastered"] is None

    assert client.get("/v1/schools/nope/summary").status_code == 404
    for role in ("teacher", "student", "guardian", "ingest"):
        h = bearer(client, role, *FIT[role])
        assert client.get("/v1/schools/sch1/summary", headers=h).status_code == 403, role
        assert client.get("/v1/district/summary", headers=h).status_code == 403, role
    assert client.get("/v1/district/summary", headers=bearer(client, "auditor")).status_code == 200
