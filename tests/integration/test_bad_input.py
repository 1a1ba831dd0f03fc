"""Bad input on the write path: refused whole, named precisely, nothing stored (CONTRACT.md §2).

Every case posts a batch in which good events surround one bad one, so a
422 that stored the good ones, or that blamed the wrong index, fails.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from services.ingest.schemas import MAX_BATCH
from tests.helpers import attempt, ledger_of, new_id, post
from tests.integration.bad_input_support import (
    BAD_AT,
    CASES,
    assert_problem,
    in_the_future,
    reflection,
    retake,
    stored,
)


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_event_in_a_batch_is_422_naming_it_and_nothing_is_stored(seeded: TestClient, case: str) -> None:
    bad, field = CASES[case](seeded)
    # The good events around it reference each other, so they would all be storable alone.
    first = attempt(correct=5)
    good = [first, reflection(first["event_id"]), retake(first["event_id"]), attempt(objective="o2")]
    batch = [*good[:BAD_AT], bad, *good[BAD_AT:]]
    before = stored(seeded)

    r = seeded.post("/v1/events", json={"events": batch})

    errors = assert_problem(r, 422)
    assert [e["loc"] for e in errors] == [["body", "events", BAD_AT, *field]]
    assert stored(seeded) == before
    # The same good events alone are fine: the 422 was about the bad one only.
    assert post(seeded, *good)["stored"] == len(good)


def test_every_invalid_event_is_listed_by_index(seeded: TestClient) -> None:
    before = stored(seeded)
    schema = [
        attempt(),
        attempt(at="2026-09-14T09:30:00"),
        attempt(),
        {**attempt(), "score": {"percent": -1}},
    ]
    errors = assert_problem(seeded.post("/v1/events", json={"events": schema}), 422)
    assert [e["loc"] for e in errors] == [
        ["body", "events", 1, "occurred_at"],
        ["body", "events", 3, "score", "percent"],
    ]
    unresolvable = [attempt(), attempt(student="ghost"), attempt(), retake(new_id())]
    errors = assert_problem(seeded.post("/v1/events", json={"events": unresolvable}), 422)
    assert [e["loc"] for e in errors] == [
        ["body", "events", 1, "student_id"],
        ["body", "events", 3, "retake_of"],
    ]
    # Both kinds at once: what the schema refuses and what the store cannot
    # resolve come back together, in batch order, in one 422.
    mixed = [attempt(), attempt(student="ghost"), attempt(), {**attempt(), "score": {"percent": -1}}]
    errors = assert_problem(seeded.post("/v1/events", json={"events": mixed}), 422)
    assert [e["loc"] for e in errors] == [
        ["body", "events", 1, "student_id"],
        ["body", "events", 3, "score", "percent"],
    ]
    assert stored(seeded) == before


def test_one_event_with_two_problems_gets_both(seeded: TestClient) -> None:
    errors = assert_problem(
        seeded.post("/v1/events", json={"events": [attempt(student="ghost", objective="nope")]}), 422
    )
    assert sorted(e["loc"] for e in errors) == [
        ["body", "events", 0, "objective_id"],
        ["body", "events", 0, "student_id"],
    ]


def test_empty_batch_and_oversized_batch_are_422(seeded: TestClient) -> None:
    before = stored(seeded)
    errors = assert_problem(seeded.post("/v1/events", json={"events": []}), 422)
    assert [e["loc"] for e in errors] == [["body", "events"]]

    too_many = [attempt() for _ in range(MAX_BATCH + 1)]
    errors = assert_problem(seeded.post("/v1/events", json={"events": too_many}), 422)
    assert [e["loc"] for e in errors] == [["body", "events"]]
    assert stored(seeded) == before

    errors = assert_problem(seeded.post("/v1/events", json={"events": [attempt()], "extra": 1}), 422)
    assert [e["loc"] for e in errors] == [["body", "extra"]]
    assert stored(seeded) == before


def test_the_largest_batch_is_accepted(seeded: TestClient) -> None:
    index = ledger_of(seeded).store.indexed
    before = index.count_index()
    # Counted through the store's index: the audit trail of 5,000 events on one
    # objective is slow to compute (see the report), and is not what this tests.
    out = post(seeded, *(attempt(correct=i % 11) for i in range(MAX_BATCH)))
    assert out["stored"] == MAX_BATCH
    assert index.count_index() == before + MAX_BATCH


def test_within_5_minutes_ahead_is_accepted(seeded: TestClient) -> None:
    out = post(seeded, attempt(at=in_the_future(4)))
    assert out["stored"] == 1


def test_reused_event_id_with_another_body_is_409_and_nothing_is_stored(seeded: TestClient) -> None:
    ev = attempt()
    post(seeded, ev)
    before = stored(seeded)
    changed = {**ev, "score": {"correct": 3, "total": 10}}
    errors = assert_problem(seeded.post("/v1/events", json={"events": [attempt(), changed]}), 409)
    assert [e["loc"] for e in errors] == [["body", "events", 1, "event_id"]]
    assert stored(seeded) == before

    # Within one batch too.
    twin = attempt()
    errors = assert_problem(seeded.post("/v1/events", json={"events": [twin, {**twin, "form": "C"}]}), 409)
    assert [e["loc"] for e in errors] == [["body", "events", 1, "event_id"]]
    assert stored(seeded) == before


def test_same_event_twice_in_a_batch_is_stored_once(seeded: TestClient) -> None:
    ev = attempt()
    before = stored(seeded)
    out = post(seeded, ev, ev)
    assert (out["stored"], out["duplicates"]) == (1, 1)
    assert stored(seeded)[1] == before[1] + 1


def test_references_to_earlier_events_of_the_same_batch_are_accepted(seeded: TestClient) -> None:
    first = attempt(correct=5)
    again = retake(first["event_id"], correct=10)
    third = retake(again["event_id"], form="C", correct=10)  # a retake of a retake
    refl = reflection(first["event_id"])
    void = {
        "event_id": new_id(),
        "type": "void",
        "student_id": "s1",
        "occurred_at": "2026-09-17T09:30:00Z",
        "target_event_id": third["event_id"],
        "reason": "entered twice",
    }
    out = post(seeded, first, refl, again, third, void)
    assert out["stored"] == 5
    history = seeded.get("/v1/students/s1/history").json()["events"]
    assert {e["event_id"] for e in history} == {e["event_id"] for e in (first, refl, again, third, void)}
    assert [e["voided"] for e in history if e["event_id"] == third["event_id"]] == [True]


def test_a_reference_to_a_later_event_of_the_batch_is_422(seeded: TestClient) -> None:
    first = attempt(correct=5)
    before = stored(seeded)
    errors = assert_problem(
        seeded.post("/v1/events", json={"events": [reflection(first["event_id"]), first]}), 422
    )
    assert [e["loc"] for e in errors] == [["body", "events", 0, "on_event"]]
    assert stored(seeded) == before


def test_a_body_that_is_not_json_is_400(seeded: TestClient) -> None:
    before = stored(seeded)
    r = seeded.post("/v1/events", content=b'{"events": [', headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "not valid JSON" in r.json()["detail"]
    assert stored(seeded) == before
