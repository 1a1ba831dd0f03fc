"""The reads that write their JSON themselves (services/http.py `json_response`)
answer exactly what their documented response model would: each body
validates against the route's `response_model` and serialises back to the same
bytes, datetimes in other offsets and with fractions included. Both stores."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from services.query.classes import GroupsOut, MasteryMapOut, NextOut
from services.query.insights import ContradictionOut, TrajectoryOut
from services.query.schemas import MasteryOut
from tests.helpers import RULE_9_OF_10, attempt, new_id, post, seed_roster


def _event(kind: str, student: str, at: str, **fields: Any) -> dict[str, Any]:
    return {"event_id": new_id(), "type": kind, "student_id": student, "occurred_at": at, **fields}


def _same_as_model(
    c: TestClient, url: str, model: Any, position: int, *, exclude_unset: bool = False, **params: Any
) -> Any:
    r = c.get(url, params={"min_position": position, **params})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    assert int(r.headers["X-Projection-Position"]) >= position
    adapter: TypeAdapter[Any] = TypeAdapter(model)
    parsed = adapter.validate_json(r.content)
    assert adapter.dump_json(parsed, exclude_unset=exclude_unset) == r.content, url
    return r.json()


def test_hand_written_json_is_what_the_response_models_write(client: TestClient) -> None:
    seed_roster(client, students=("s1", "s2", "s3"), objectives={"o1": RULE_9_OF_10, "o2": RULE_9_OF_10})
    first = attempt("s1", "o2", correct=3, at="2026-09-15T10:00:00.250000+02:00")
    pos = post(
        client,
        attempt("s1", "o1", correct=10, at="2026-09-14T09:30:00-05:00"),
        first,
        # A retake with no reflection on the attempt it retakes: a flag.
        {**attempt("s1", "o2", correct=7, at="2026-09-16T10:00:00Z", form="B"), "type": "retake"}
        | {"retake_of": first["event_id"]},
        _event("override", "s2", "2026-09-14T12:00:00Z", objective_id="o1", status="mastered", reason="seen"),
        _event(
            "benchmark",
            "s2",
            "2026-09-20T08:00:00+09:30",
            benchmark_id="interim-1",
            name="Interim 1",
            results=[{"objective_id": "o1", "correct": 2, "total": 10}],
        ),
        _event(
            "benchmark",
            "s3",
            "2026-09-21T08:00:00Z",
            benchmark_id="interim-1",
            name="Interim 1",
            results=[{"objective_id": "o2", "correct": 10, "total": 10}],
        ),
        _event("goal", "s1", "2026-09-14T08:00:00Z", target_mastered=2, due="2027-06-01"),
    )["position"]

    for s in ("s1", "s2", "s3"):
        body = _same_as_model(client, f"/v1/students/{s}/mastery", MasteryOut, pos)
        assert body["as_of"] is None and body["known_at"] is None
    s1 = _same_as_model(client, "/v1/students/s1/mastery", MasteryOut, pos)
    o1 = next(o for o in s1["objectives"] if o["objective_id"] == "o1")
    assert o1["mastered_at"] == "2026-09-14T09:30:00-05:00"
    o2 = next(o for o in s1["objectives"] if o["objective_id"] == "o2")
    assert o2["flags"] == ["reflection_missing"] and o2["score"] == 0.7
    as_of, known_at = "2026-09-15T12:00:00+02:00", "2030-01-01T00:00:00Z"
    past = _same_as_model(client, "/v1/students/s1/mastery", MasteryOut, pos, as_of=as_of, known_at=known_at)
    assert past["as_of"] == "2026-09-15T12:00:00+02:00" and past["known_at"] == "2030-01-01T00:00:00Z"

    grid = _same_as_model(client, "/v1/classes/c1/mastery-map", MasteryMapOut, pos)
    assert [r["student_id"] for r in grid["students"]] == ["s1", "s2", "s3"]
    _same_as_model(client, "/v1/classes/c1/next", NextOut, pos)
    groups = _same_as_model(client, "/v1/classes/c1/groups", GroupsOut, pos)
    assert any(g["reteach"] for g in groups["groups"])

    t = _same_as_model(client, "/v1/students/s1/trajectory", TrajectoryOut, pos)
    assert t["goal"]["due"] == "2027-06-01"

    contradictions = list[ContradictionOut]
    open_ = _same_as_model(
        client, "/v1/contradictions", contradictions, pos, exclude_unset=True, class_id="c1"
    )
    assert {c["kind"] for c in open_} == {"benchmark_below_mastery", "benchmark_above_status"}
    assert all("resolved_at" not in c for c in open_)
    assert "2026-09-20T08:00:00+09:30" in {c["detected_at"] for c in open_}
    _same_as_model(client, "/v1/contradictions", contradictions, pos, exclude_unset=True, school_id="sch1")
    every = _same_as_model(
        client,
        "/v1/contradictions",
        contradictions,
        pos,
        exclude_unset=True,
        class_id="c1",
        include_resolved="true",
    )
    assert all(c["resolved_at"] is None for c in every)
