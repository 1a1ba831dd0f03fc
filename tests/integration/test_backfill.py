"""`POST /v1/events/backfill` (issue 13: the demo's school year, and a
district's years of history from its previous system): admin only; each
event keeps its own recorded_at and recorder, is marked as migrated in the
audit trail, and `known_at` cuts by the time it was recorded there."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import attempt, ledger_of, mastery, seed_roster


def _item(event: dict[str, Any], recorded_at: str, by: str = "teacher:Ms Rivera") -> dict[str, Any]:
    return {"event": event, "recorded_at": recorded_at, "recorded_by": by}


def test_backfilled_events_keep_when_and_by_whom_they_were_recorded(client: TestClient) -> None:
    seed_roster(client)
    miss = attempt(correct=5, at="2025-09-08T09:10:00-05:00")
    hit = attempt(correct=10, at="2025-09-15T09:10:00-05:00", form="B")
    body = {
        "events": [
            _item(miss, "2025-09-08T15:30:00-05:00"),
            _item(hit, "2025-09-17T07:45:00-05:00", "teacher:Mr Okafor"),
        ]
    }
    r = client.post("/v1/events/backfill", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["stored"], out["duplicates"]) == (2, 0)

    history = client.get("/v1/students/s1/history").json()["events"]
    assert [(e["recorded_at"], e["recorded_by"], e["migrated_by"]) for e in history] == [
        ("2025-09-08T15:30:00-05:00", "teacher:Ms Rivera", "admin:bootstrap"),
        ("2025-09-17T07:45:00-05:00", "teacher:Mr Okafor", "admin:bootstrap"),
    ]
    # known_at cuts by when it was recorded there: between the two, only the miss is known.
    cut = client.get("/v1/students/s1/history", params={"known_at": "2025-09-16T00:00:00Z"}).json()
    assert [e["event_id"] for e in cut["events"]] == [miss["event_id"]]
    assert mastery(client, "s1", out["position"])["objectives"][0]["status"] == "mastered"
    # Events recorded here are not marked.
    r = client.post("/v1/events", json={"events": [attempt(correct=9, at="2025-09-20T09:00:00Z")]})
    assert client.get("/v1/students/s1/history").json()["events"][-1]["migrated_by"] is None
    # The same backfill again stores nothing.
    again = client.post("/v1/events/backfill", json=body).json()
    assert (again["stored"], again["duplicates"]) == (0, 2)


def test_a_backfill_with_a_bad_event_stores_nothing_and_names_every_problem(client: TestClient) -> None:
    seed_roster(client)
    head = ledger_of(client).store.head_position()
    body = {
        "events": [
            _item(attempt(at="2025-09-08T09:10:00Z"), "2025-09-08T09:00:00Z"),  # recorded before it occurred
            _item(attempt("nobody", at="2025-09-08T09:10:00Z"), "2025-09-09T09:00:00Z"),
            _item(attempt(at="2025-09-08T09:10:00Z"), "2099-01-01T00:00:00Z"),  # recorded in the future
        ]
    }
    r = client.post("/v1/events/backfill", json=body)
    assert r.status_code == 422, r.text
    locs = [e["loc"] for e in r.json()["errors"]]
    assert locs == [
        ["body", "events", 0, "recorded_at"],
        ["body", "events", 1, "event", "student_id"],
        ["body", "events", 2, "recorded_at"],
    ]
    assert ledger_of(client).store.head_position() == head
