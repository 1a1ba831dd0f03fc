"""The event batch write path, on each backend: what a batch stores and answers.

The writer first assumes a batch's event ids are new and lets the store's
uniqueness refuse one that is not; these cover the answers that path must
give exactly as a full check would: duplicates beside new events, concurrent
writers of the same ids, and the log position after a batch.
"""

from __future__ import annotations

import threading

from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from domain.ids import learner_stream
from domain.learner import Learner
from services.bootstrap import Ledger
from services.ingest.commands import RecordEvents
from services.ingest.schemas import EventBatchIn, ObjectiveIn, SchoolIn, StudentIn
from services.ingest.writer import BatchResult
from tests.helpers import RULE_9_OF_10, attempt, ledger_of, post, seed_roster

_BATCH = TypeAdapter(EventBatchIn)


def test_stored_events_repeated_among_new_ones_are_duplicates(client: TestClient) -> None:
    seed_roster(client)
    a, b, c, d = attempt(), attempt(correct=3), attempt(correct=4), attempt(correct=5)
    post(client, a, b)
    out = post(client, a, c, b, d)
    assert (out["stored"], out["duplicates"]) == (2, 2)
    assert [(r["event_id"], r["status"]) for r in out["results"]] == [
        (a["event_id"], "duplicate"),
        (c["event_id"], "stored"),
        (b["event_id"], "duplicate"),
        (d["event_id"], "stored"),
    ]
    history = client.get("/v1/students/s1/history").json()["events"]
    assert sorted(e["event_id"] for e in history) == sorted(x["event_id"] for x in (a, b, c, d))


def test_a_batch_of_only_stored_events_answers_the_head_position(client: TestClient) -> None:
    seed_roster(client)
    a, b = attempt(), attempt(correct=2)
    first = post(client, a, b)
    again = post(client, b, a)
    assert (again["stored"], again["duplicates"], again["position"]) == (0, 2, first["position"])


def test_the_position_is_the_last_event_of_the_batch_in_order(client: TestClient) -> None:
    seed_roster(client)
    events = [attempt(correct=i) for i in range(5)]
    out = post(client, *events)
    store = ledger_of(client).store
    assert out["position"] == store.head_position()
    notes = store.recorder.select_notifications(out["position"] - 4, 5)
    assert [n.id for n in notes] == list(range(out["position"] - 4, out["position"] + 1))
    decoded = [store.mapper.to_domain_event(n) for n in notes]
    assert all(isinstance(e, Learner.AttemptRecorded) for e in decoded)
    assert [e.event_id for e in decoded] == [e["event_id"] for e in events]  # type: ignore[attr-defined]
    # The learning stream holds learning events only: the profile has a stream of its own.
    assert [e.originator_version for e in decoded] == [1, 2, 3, 4, 5]


def test_concurrent_writers_of_the_same_new_events_store_them_once(ledger: Ledger) -> None:
    ledger.roster.put_school("sch1", SchoolIn(name="Lincoln"))
    for s in ("s1", "s2"):
        ledger.roster.put_student(s, StudentIn(name=s, grade="7", school_id="sch1"))
    objective = {"statement": "o1", "subject": "math", "course": "c", "unit": "u", "rule": RULE_9_OF_10}
    ledger.roster.put_objective("o1", ObjectiveIn.model_validate(objective))
    events = [attempt(student=s, correct=i % 11) for i in range(20) for s in ("s1", "s2")]
    batch = _BATCH.validate_python({"events": events})
    results: list[BatchResult] = []
    start = threading.Barrier(3)

    def write() -> None:
        start.wait()
        results.append(ledger.writer.write(RecordEvents(batch.events, "test:writer", "req")))

    threads = [threading.Thread(target=write) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted((r.stored, r.duplicates) for r in results) == [(0, 40), (0, 40), (40, 0)]
    assert len({r.position for r in results}) == 1
    assert ledger.store.indexed.count_index() == 40


def test_concurrent_batches_for_the_same_students_queue_instead_of_failing(ledger: Ledger) -> None:
    """Eight writers, each with its own events for the same two students, at
    once and again and again: every batch is stored (none gives up after
    colliding on stream versions), and each stream's versions run on without
    a gap or a repeat, in each batch's order."""
    ledger.roster.put_school("sch1", SchoolIn(name="Lincoln"))
    for s in ("s1", "s2"):
        ledger.roster.put_student(s, StudentIn(name=s, grade="7", school_id="sch1"))
    objective = {"statement": "o1", "subject": "math", "course": "c", "unit": "u", "rule": RULE_9_OF_10}
    ledger.roster.put_objective("o1", ObjectiveIn.model_validate(objective))
    writers, rounds = 8, 6
    batches = [
        [
            _BATCH.validate_python(
                {"events": [attempt(student=s, correct=i % 11) for i in range(5) for s in ("s1", "s2")]}
            )
            for _ in range(rounds)
        ]
        for _ in range(writers)
    ]
    failures: list[BaseException] = []
    start = threading.Barrier(writers)

    def write(mine: list[EventBatchIn]) -> None:
        start.wait()
        try:
            for b in mine:
                assert ledger.writer.write(RecordEvents(b.events, "test:writer", "req")).stored == 10
        except BaseException as e:
            failures.append(e)

    threads = [threading.Thread(target=write, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    for s in ("s1", "s2"):
        events = [
            e for e in ledger.store.events.get(learner_stream(s)) if isinstance(e, Learner.LearningEvent)
        ]
        assert [e.originator_version for e in events] == list(range(1, 1 + writers * rounds * 5)), s
        by_id = {e.event_id: e.originator_version for e in events}
        for mine in batches:
            for b in mine:
                versions = [by_id[str(e.event_id)] for e in b.events if e.student_id == s]
                assert versions == sorted(versions)
