"""Events in, mastery and history out, on each backend."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.helpers import attempt, mastery, new_id, post, seed_roster


def test_attempt_then_mastery_and_history(client: TestClient) -> None:
    seed_roster(client)
    first = attempt(correct=7)
    retake = attempt(
        correct=9, form="B", at="2026-09-16T09:30:00-05:00", type="retake", retake_of=first["event_id"]
    )
    reflection = {
        "event_id": new_id(),
        "type": "reflection",
        "student_id": "s1",
        "occurred_at": "2026-09-15T09:30:00-05:00",
        "on_event": first["event_id"],
        "text": "I dropped the negative sign when dividing",
    }
    out = post(client, first, reflection, retake)
    assert out["stored"] == 3 and out["duplicates"] == 0

    body = mastery(client, "s1", out["position"])
    [row] = body["objectives"]
    assert row["status"] == "mastered"
    assert row["deciding_event_id"] == retake["event_id"]
    assert row["flags"] == []
    assert body["summary"] == {"mastered": 1, "in_progress": 0, "not_started": 0}

    history = client.get("/v1/students/s1/history").json()["events"]
    assert [(e["type"], e["status_after"]) for e in history] == [
        ("attempt", "in_progress"),
        ("reflection", "in_progress"),
        ("retake", "mastered"),
    ]
    assert all(e["recorded_by"] == "admin:bootstrap" for e in history)


def test_duplicate_is_reported_not_stored_and_changed_body_conflicts(client: TestClient) -> None:
    seed_roster(client)
    ev = attempt()
    first = post(client, ev)
    again = post(client, ev)
    assert again["stored"] == 0 and again["duplicates"] == 1
    assert again["results"] == [{"event_id": ev["event_id"], "status": "duplicate"}]
    assert again["position"] == first["position"]

    changed = {**ev, "score": {"correct": 3, "total": 10}}
    r = client.post("/v1/events", json={"events": [changed]})
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    assert client.get("/v1/students/s1/history").json()["events"][0]["payload"]["score"]["correct"] == 9


def test_late_arriving_attempt_lands_in_its_place(client: TestClient) -> None:
    seed_roster(client)
    recent = attempt(correct=10, at="2026-10-01T10:00:00Z")
    post(client, recent)
    late = attempt(correct=2, at="2026-09-01T10:00:00Z")  # recorded later, occurred earlier
    out = post(client, late)
    [row] = mastery(client, "s1", out["position"])["objectives"]
    assert row["status"] == "mastered"
    assert row["deciding_event_id"] == recent["event_id"]


def test_as_of_and_known_at(client: TestClient) -> None:
    seed_roster(client)
    miss = attempt(correct=5, at="2026-09-10T10:00:00Z")
    out1 = post(client, miss)
    known_between = client.get("/v1/students/s1/history").json()["events"][0]["recorded_at"]
    hit = attempt(correct=10, at="2026-09-20T10:00:00Z")
    out2 = post(client, hit)

    now = mastery(client, "s1", out2["position"])["objectives"][0]
    assert now["status"] == "mastered"
    before = mastery(client, "s1", out2["position"], as_of="2026-09-15T00:00:00Z")["objectives"][0]
    assert before["status"] == "in_progress" and before["deciding_event_id"] == miss["event_id"]
    known = mastery(client, "s1", out1["position"], known_at=known_between)["objectives"][0]
    assert known["status"] == "in_progress" and known["evidence_count"] == 1


def test_reads_need_a_token_and_carry_the_position(client: TestClient) -> None:
    seed_roster(client)
    out = post(client, attempt())
    r = client.get("/v1/students/s1/mastery", params={"min_position": out["position"]})
    assert int(r.headers["X-Projection-Position"]) >= out["position"]
    r = client.get("/v1/students/s1/mastery", headers={"Authorization": ""})
    assert r.status_code == 401
    r = client.get("/v1/students/s1/mastery", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401


def test_min_position_beyond_the_log_is_503_with_retry_after(client: TestClient) -> None:
    seed_roster(client)
    r = client.get("/v1/students/s1/mastery", params={"min_position": 10_000_000})
    assert r.status_code == 503
    assert r.headers["Retry-After"]
    assert int(r.headers["X-Projection-Position"]) < 10_000_000


def test_unknown_student_is_404(client: TestClient) -> None:
    seed_roster(client)
    assert client.get("/v1/students/ghost/mastery").status_code == 404
    assert client.get("/v1/students/ghost/history").status_code == 404
