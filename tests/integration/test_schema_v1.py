"""Events written by schema version 1 (before issue 11's event model) still
read: a small log written by that version (tests/fixtures/events_v1.jsonl, one
stored event a line, as the store held it) is loaded into a fresh store, and
every reader sees it as it saw it then, through the upcasters of
domain/learner.py. Nothing of it is rewritten."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from domain.learner import Learner
from services import cli
from services.bootstrap import Ledger
from tests.helpers import attempt, ledger_of, mastery, post, use_store

FIXTURE = Path(__file__).parent.parent / "fixtures" / "events_v1.jsonl"
# What version 1 answered for this log (captured when the fixture was written).
STATUSES_THEN = {
    "s1": [("o1", "mastered", "evidence", ["benchmark_disagrees"], 2), ("o2", "mastered", "override", [], 0)],
    "s2": [("o1", "not_started", None, [], 0), ("o2", "in_progress", "evidence", [], 1)],
}


def _load(ledger: Ledger) -> int:
    rows = [json.loads(line) for line in FIXTURE.read_text().splitlines()]
    stored = [StoredEvent(UUID(r["stream"]), r["version"], r["topic"], r["state"].encode()) for r in rows]
    ledger.store.recorder.insert_events(stored)
    return ledger.store.head_position()


def _statuses(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (o["objective_id"], o["status"], o["source"], o["flags"], o["evidence_count"])
        for o in body["objectives"]
    ]


def test_a_version_1_log_reads_as_it_did(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = ledger_of(client)
    position = _load(ledger)
    for student, then in STATUSES_THEN.items():
        assert _statuses(mastery(client, student, position)) == then
        past = mastery(client, student, position, as_of="2027-01-01T00:00:00Z")
        assert _statuses(past) == then  # the replay path decodes the same events
    # Every learning event decodes to its current class, payload field by field.
    events = [
        e for e in ledger.store.events.get(UUID(_stream_of("s1"))) if isinstance(e, Learner.LearningEvent)
    ]
    attempt_v1 = events[0]
    assert isinstance(attempt_v1, Learner.AttemptRecorded)
    assert attempt_v1.payload() == {
        "objective_id": "o1",
        "form": "A",
        "evidence": "quiz",
        "score": {"correct": 6, "total": 10},
        "duration_seconds": 312.5,
        "accommodations": {"extended_time_factor": 1.5},
        "items": [{"n": 1, "ok": True}],
    }
    # Version 1 kept personal data in clear: the upcast keeps it apart, as it was.
    assert attempt_v1.personal == {"notes": "Zoë worked with a partner"}

    # The history shows the payload as it was sent, personal data included.
    r = client.get("/v1/students/s1/history")
    assert r.status_code == 200, r.text
    by_type = {e["type"]: e["payload"] for e in r.json()["events"]}
    assert by_type["reflection"]["text"] == "I mixed up the signs"
    assert by_type["reflection"]["error_analysis"] == [{"item": 3, "cause": "sign error"}]
    assert by_type["attempt"]["notes"] == "Zoë worked with a partner"
    assert by_type["override"]["reason"] == "showed it in a conference with Zoë's mother"
    # The class map names the students as version 1 stored them.
    names = {s["student_id"]: s["name"] for s in client.get("/v1/classes/c1/mastery-map").json()["students"]}
    assert names == {"s1": "Zoë Renamed", "s2": "Student s2"}

    # New events go on after the old ones; the student is known though it has no profile stream.
    later = post(client, attempt("s2", "o1", correct=10, at="2026-10-01T09:00:00Z"))
    assert mastery(client, "s2", later["position"])["objectives"][0]["status"] == "mastered"
    # A version-1 student's name sits in clear in old events: erasure says it cannot erase them.
    use_store(monkeypatch, ledger)
    result = CliRunner().invoke(cli.app, ["erase", "s1", "--reason", "request 7"])
    assert result.exit_code == 2 and "cannot be erased by destroying a key" in result.stderr


def _stream_of(student: str) -> str:
    from domain.ids import learner_stream

    return str(learner_stream(student))
