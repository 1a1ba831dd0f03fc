"""Read models beyond current mastery (issue #5): contradictions, trajectories,
class map / next / groups, school and district summaries. Both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from domain.growth import week_start
from services.bootstrap import Ledger
from services.projections.rebuild import rebuild
from tests.helpers import (
    RULE_9_OF_10,
    attempt,
    bearer,
    ledger_of,
    new_id,
    post,
    projected,
    seed_roster,
    seed_summary_school,
)

# A scope each role may hold (infra/tokens.py SCOPE_RULES), for tests of what it may not do.
FIT = {
    "teacher": ["class:c1"],
    "student": ["student:s1"],
    "guardian": ["student:s1"],
    "analyst": [],
    "ingest": [],
}


def _get(c: TestClient, url: str, position: int, **params: Any) -> Any:
    r = c.get(url, params={"min_position": position, **params})
    assert r.status_code == 200, r.text
    assert int(r.headers["X-Projection-Position"]) >= position
    return r.json()


def _benchmark(
    student: str, at: str, results: list[tuple[str, int, int]], bid: str = "interim-1"
) -> dict[str, Any]:
    return {
        "event_id": new_id(),
        "type": "benchmark",
        "student_id": student,
        "occurred_at": at,
        "benchmark_id": bid,
        "name": "Interim 1",
        "results": [{"objective_id": o, "correct": c, "total": t} for o, c, t in results],
    }


def _event(kind: str, student: str, at: str, **fields: Any) -> dict[str, Any]:
    return {"event_id": new_id(), "type": kind, "student_id": student, "occurred_at": at, **fields}


def _row(mastery: dict[str, Any], oid: str) -> dict[str, Any]:
    row: dict[str, Any] = next(o for o in mastery["objectives"] if o["objective_id"] == oid)
    return row


def _mastery_tables(ledger: Ledger) -> dict[str, list[tuple[Any, ...]]]:
    mastery = next(p for p in ledger.runner.projections if p.name == "mastery")
    out = {}
    with ledger.engine.connect() as conn:
        for t in mastery.tables:
            out[t.name] = [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
    return out


def _contradictions(c: TestClient, pos: int, **params: Any) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = _get(c, "/v1/contradictions", pos, **params)
    return body


CONTRACT_FIELDS = {
    "student_id",
    "objective_id",
    "kind",
    "mastery_status",
    "benchmark_id",
    "benchmark_percent",
    "detected_at",
}


def test_contradictions_open_resolve_and_keep_history(client: TestClient) -> None:
    seed_roster(client, students=("s1", "s2"), objectives={"o1": RULE_9_OF_10, "o2": RULE_9_OF_10})
    quiz = attempt("s1", "o1", correct=10, at="2026-09-01T09:00:00Z")
    bench = _benchmark("s1", "2026-09-10T09:00:00Z", [("o1", 4, 10), ("o2", 19, 20)])
    pos = post(client, quiz, bench)["position"]

    open_ = _contradictions(client, pos, class_id="c1")
    assert [set(x) for x in open_] == [CONTRACT_FIELDS, CONTRACT_FIELDS]
    by_oid = {x["objective_id"]: x for x in open_}
    assert by_oid["o1"]["kind"] == "benchmark_below_mastery"
    assert by_oid["o1"]["mastery_status"] == "mastered"
    assert by_oid["o1"]["benchmark_id"] == "interim-1" and by_oid["o1"]["benchmark_percent"] == 40
    assert by_oid["o2"]["kind"] == "benchmark_above_status"
    assert by_oid["o2"]["mastery_status"] == "not_started" and by_oid["o2"]["benchmark_percent"] == 95
    assert datetime.fromisoformat(by_oid["o1"]["detected_at"]) == datetime(2026, 9, 10, 9, tzinfo=UTC)
    assert _contradictions(client, pos, school_id="sch1") == open_

    m = _get(client, "/v1/students/s1/mastery", pos)
    assert _row(m, "o1")["flags"] == ["benchmark_disagrees"]
    assert _row(m, "o2")["status"] == "not_started" and _row(m, "o2")["flags"] == ["benchmark_disagrees"]

    # The same benchmark delivered again changes nothing.
    before = _mastery_tables(ledger_of(client))
    again = post(client, bench)
    assert again["duplicates"] == 1
    assert _contradictions(client, again["position"], class_id="c1") == open_
    assert _mastery_tables(ledger_of(client)) == before

    # A late quiz that occurred before the benchmark: o2 is now in progress, the
    # contradiction still stands from the same moment.
    late = post(client, attempt("s1", "o2", correct=3, at="2026-09-05T09:00:00Z"))["position"]
    o2 = next(x for x in _contradictions(client, late, class_id="c1") if x["objective_id"] == "o2")
    assert o2["mastery_status"] == "in_progress" and o2["detected_at"] == by_oid["o2"]["detected_at"]

    # New evidence after the benchmark settles o1: the student re-demonstrated it.
    settled = post(client, attempt("s1", "o1", correct=10, at="2026-09-12T09:00:00Z"))["position"]
    assert [x["objective_id"] for x in _contradictions(client, settled, class_id="c1")] == ["o2"]
    assert _row(_get(client, "/v1/students/s1/mastery", settled), "o1")["flags"] == []
    history = _contradictions(client, settled, class_id="c1", include_resolved="true")
    o1 = next(x for x in history if x["objective_id"] == "o1")
    assert set(o1) == CONTRACT_FIELDS | {"resolved_at"}
    assert datetime.fromisoformat(o1["resolved_at"]) == datetime(2026, 9, 12, 9, tzinfo=UTC)

    # The replay path (as_of, explain) flags the same, for the moment asked.
    then = _get(client, "/v1/students/s1/mastery", settled, as_of="2026-09-11T00:00:00Z")
    assert _row(then, "o1")["flags"] == ["benchmark_disagrees"]
    now = _get(client, "/v1/students/s1/mastery", settled)
    replayed = _get(client, "/v1/students/s1/mastery", settled, as_of="2026-10-01T00:00:00Z")
    assert [o["flags"] for o in replayed["objectives"]] == [o["flags"] for o in now["objectives"]]
    explain = _get(client, "/v1/students/s1/objectives/o2/explain", settled)
    assert explain["flags"] == ["benchmark_disagrees"]

    # Voiding the benchmark resolves what it raised, at the void.
    void = _event(
        "void", "s1", "2026-09-20T09:00:00Z", target_event_id=bench["event_id"], reason="wrong student"
    )
    voided = post(client, void)["position"]
    assert _contradictions(client, voided, class_id="c1") == []
    history = _contradictions(client, voided, school_id="sch1", include_resolved="true")
    o2_closed = next(x for x in history if x["objective_id"] == "o2")
    assert datetime.fromisoformat(o2_closed["resolved_at"]) == datetime(2026, 9, 20, 9, tzinfo=UTC)
    assert all(
        f == [] for f in (o["flags"] for o in _get(client, "/v1/students/s1/mastery", voided)["objectives"])
    )

    # An override after a benchmark settles it: the teacher decided knowing the result.
    post(client, attempt("s2", "o1", correct=10, at="2026-09-01T09:00:00Z"))
    p2 = post(client, _benchmark("s2", "2026-09-10T09:00:00Z", [("o1", 2, 10)]))["position"]
    assert [x["student_id"] for x in _contradictions(client, p2, class_id="c1")] == ["s2"]
    ov = _event(
        "override", "s2", "2026-09-11T09:00:00Z", objective_id="o1", status="mastered", reason="conference"
    )
    p3 = post(client, ov)["position"]
    assert _contradictions(client, p3, class_id="c1") == []

    # Idempotent: the whole log applied again to the live tables changes nothing;
    # a rebuild gives the same tables row for row.
    ledger = ledger_of(client)
    assert projected(ledger, p3)
    before = _mastery_tables(ledger)
    mastery = next(p for p in ledger.runner.projections if p.name == "mastery")
    notes = ledger.store.recorder.select_notifications(1, 10_000)
    decoded = [(n.id, ledger.store.mapper.to_domain_event(n)) for n in notes if n.topic in mastery.topics]
    with ledger.engine.begin() as conn:
        mastery.apply(conn, decoded[: len(decoded) // 2])
        mastery.apply(conn, decoded)
    assert _mastery_tables(ledger) == before
    rebuild(ledger)
    assert _mastery_tables(ledger) == before
    assert any(before["rm_contradictions"]) and any(before["rm_benchmark_results"])


def test_contradictions_scope_and_input(client: TestClient) -> None:
    seed_roster(client, students=("s1",))
    post(client, attempt("s1", "o1", correct=10, at="2026-09-01T09:00:00Z"))
    pos = post(client, _benchmark("s1", "2026-09-10T09:00:00Z", [("o1", 1, 10)]))["position"]
    mine, other = bearer(client, "teacher", "class:c1"), bearer(client, "teacher", "class:c9")
    r = client.get("/v1/contradictions", params={"class_id": "c1", "min_position": pos}, headers=mine)
    assert r.status_code == 200 and len(r.json()) == 1
    assert client.get("/v1/contradictions", params={"class_id": "c1"}, headers=other).status_code == 404
    # A teacher asking for a school sees only the students it teaches there.
    r = client.get("/v1/contradictions", params={"school_id": "sch1", "min_position": pos}, headers=mine)
    assert r.status_code == 200 and len(r.json()) == 1
    assert client.get("/v1/contradictions", params={"class_id": "nope"}).status_code == 404
    assert client.get("/v1/contradictions", params={"school_id": "nope"}).status_code == 404
    assert client.get("/v1/contradictions").status_code == 422
    assert client.get("/v1/contradictions", params={"class_id": "c1", "school_id": "sch1"}).status_code == 422
    for role in ("analyst", "student", "ingest"):
        r = client.get(
            "/v1/contradictions", params={"class_id": "c1"}, headers=bearer(client, role, *FIT[role])
        )
        assert r.status_code == 403, role


def _ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


def test_trajectory_counts_weeks_and_projects_goals(client: TestClient) -> None:
    seed_roster(client, students=("s1",), objectives={f"o{i}": RULE_9_OF_10 for i in range(1, 5)})
    pos = post(
        client,
        attempt("s1", "o1", correct=10, at=_ago(21)),
        attempt("s1", "o2", correct=10, at=_ago(7)),
        attempt("s1", "o4", correct=10, at=_ago(10)),
        attempt("s1", "o4", correct=2, at=_ago(3)),  # mastered, then lost: counts in no week
        _event(
            "goal",
            "s1",
            _ago(20),
            target_mastered=5,
            due=str((datetime.now(UTC) + timedelta(days=28)).date()),
        ),
    )["position"]
    t = _get(client, "/v1/students/s1/trajectory", pos, interval="week")
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
    late = attempt("s1", "o3", correct=10, at=_ago(14))
    goal2 = _event("goal", "s1", _ago(1), target_mastered=6, due=str(today + timedelta(days=28)))
    pos = post(client, late, goal2)["position"]
    t = _get(client, "/v1/students/s1/trajectory", pos)
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
        _event("void", "s1", _ago(0), target_event_id=goal2["event_id"], reason="typo"),
        _event("void", "s1", _ago(0), target_event_id=late["event_id"], reason="wrong student"),
    )["position"]
    t = _get(client, "/v1/students/s1/trajectory", pos)
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


def _objective(c: TestClient, oid: str, seq: int, prereqs: list[str]) -> None:
    body = {
        "statement": f"Objective {oid}",
        "subject": "math",
        "course": "algebra-1",
        "unit": "u1",
        "sequence": seq,
        "prerequisites": prereqs,
        "rule": RULE_9_OF_10,
        "effective_from": "2026-08-01T00:00:00Z",
    }
    assert c.put(f"/v1/objectives/{oid}", json=body).status_code in (200, 201)


def test_class_map_next_and_groups(client: TestClient) -> None:
    seed_roster(client, students=("s1", "s2", "s3", "s4"), objectives={"o1": RULE_9_OF_10})
    _objective(client, "o2", 2, ["o1"])
    _objective(client, "o3", 3, ["o2"])
    _objective(client, "o9", 9, ["o1", "o3"])
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
        _benchmark("s4", "2026-09-05T09:00:00Z", [("o1", 1, 10)]),
    )["position"]
    # s3's o2 quiz was another student's: voided, it no longer makes s3 part of a group.
    pos = post(
        client, _event("void", "s3", "2026-09-04T09:00:00Z", target_event_id=bad["event_id"], reason="x")
    )["position"]

    m = _get(client, "/v1/classes/c1/mastery-map", pos)
    assert [o["objective_id"] for o in m["objectives"]] == ["o1", "o2", "o3", "o9"]
    grid = {r["student_id"]: {k: v["status"] for k, v in r["statuses"].items()} for r in m["students"]}
    assert grid["s1"] == {"o1": "mastered", "o2": "in_progress", "o3": "not_started", "o9": "not_started"}
    assert grid["s2"]["o2"] == "mastered" and grid["s3"]["o1"] == "in_progress"
    assert grid["s3"]["o2"] == "not_started"  # the voided quiz counts for nothing
    s4 = next(r for r in m["students"] if r["student_id"] == "s4")
    assert s4["statuses"]["o1"]["flags"] == ["benchmark_disagrees"] and s4["mastered"] == 1

    nxt = {s["student_id"]: s["objectives"] for s in _get(client, "/v1/classes/c1/next", pos)["students"]}
    assert nxt == {"s1": ["o2"], "s2": ["o3"], "s3": ["o1"], "s4": ["o2"]}

    groups = {g["objective_id"]: g for g in _get(client, "/v1/classes/c1/groups", pos)["groups"]}
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
    d = _get(client, "/v1/district/summary", pos)
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
