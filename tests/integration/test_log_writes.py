"""Writes to the event log on both stores: large values neither hang a writer
nor leave the log's lock held (issue 10: on PostgreSQL a 16 MiB value hung the
writer inside the library's pipelined insert, with the log's table lock held,
and every later write queued behind it); a writer waits for the lock only so
long; and only a (stream, version) collision counts as one."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import TypeVar

import orjson
import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent
from fastapi.testclient import TestClient

from domain.ids import learner_stream
from domain.learner import Learner
from domain.roster import School
from infra.eventstore import IndexRow, LogBusy
from infra.recorders_postgres import IndexedPostgresRecorder
from infra.settings import Settings
from services.bootstrap import Ledger
from tests.helpers import attempt, post, seed_roster

MiB = 1024 * 1024
T = TypeVar("T")


def _finishes(work: Callable[[], T], within: float = 120.0) -> T:
    """`work`'s result; a write that hangs fails the test instead of the suite."""
    out: list[T] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            out.append(work())
        except BaseException as e:  # handed to the test's thread
            failed.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(within)
    assert not thread.is_alive(), f"the write did not answer within {within} s"
    if failed:
        raise failed[0]
    return out[0]


def _learning_event(student: str, state: bytes) -> tuple[StoredEvent, IndexRow]:
    event_id = str(uuid.uuid4())
    stored = StoredEvent(learner_stream(student), 2, "tests:Large", state)
    return stored, IndexRow(event_id, student, "attempt", "o1", "hash")


def test_large_values_are_stored_and_the_log_stays_writable(ledger: Ledger) -> None:
    for size in (16 * MiB + 1, 48 * MiB):
        school = School(school_id=f"big-{size}", name="n" * size)
        _finishes(lambda: ledger.store.save(school))  # noqa: B023 (called at once)
        stored: School = ledger.store.repository.get(school.id)
        assert len(stored.name) == size
    ledger.store.save(Learner(student_id="s1", name="S", grade="7", school_id="big"))
    batch = [_learning_event("s1", b"x" * (16 * MiB)), _learning_event("s1", b"y" * MiB)]
    events, rows = [e for e, _ in batch], [r for _, r in batch]
    position = _finishes(lambda: ledger.store.indexed.append_batch(events, rows))
    assert position == ledger.store.head_position()
    assert [len(e.state) for e in ledger.store.recorder.select_events(learner_stream("s1"))[1:]] == [
        16 * MiB,
        MiB,
    ]
    # The checks a batch makes before it appends carry its ids: 20 MiB of them.
    ids = [f"{i:08d}" + "e" * (MiB - 8) for i in range(20)]
    heads, index = _finishes(lambda: ledger.store.indexed.select_for_batch([learner_stream("s1")], ids))
    assert heads == {learner_stream("s1"): 3}
    assert index == {}


def test_a_batch_of_nearly_16_mib_is_stored_and_the_next_one_too(client: TestClient) -> None:
    seed_roster(client)
    notes = "n" * 10_000
    events = [attempt(notes=notes) for _ in range(1_600)]
    body = orjson.dumps({"events": events})
    assert 15 * MiB < len(body) < 16 * MiB
    headers = {"content-type": "application/json"}
    for outcome in ("stored", "duplicates"):
        answer = _finishes(lambda: client.post("/v1/events", content=body, headers=headers))
        assert answer.status_code == 200, answer.text
        assert answer.json()[outcome] == 1_600
    assert post(client, attempt())["stored"] == 1


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_writer_waits_for_the_log_lock_only_so_long(client: TestClient, settings: Settings) -> None:
    seed_roster(client)
    ledger: Ledger = client.app.state.ledger  # type: ignore[attr-defined]
    recorder = ledger.store.indexed
    assert isinstance(recorder, IndexedPostgresRecorder)
    recorder.lock_wait_ms = 300  # the bound, shortened for the test
    head = ledger.store.head_position()
    assert settings.database_url is not None
    with psycopg.connect(settings.database_url) as holder:
        # Another session holds the log's lock, as a stuck writer would.
        holder.execute(f"LOCK TABLE {recorder.events_table_name} IN EXCLUSIVE MODE")
        for answer in (
            client.post("/v1/events", json={"events": [attempt()]}),
            client.put("/v1/schools/sch9", json={"name": "Nine"}),
        ):
            assert answer.status_code == 503, answer.text
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.headers["retry-after"] == "1"
            assert "busy" in answer.json()["detail"]
        with pytest.raises(LogBusy):
            recorder.insert_events([StoredEvent(uuid.uuid4(), 1, "tests:Nothing", b"{}")])
        holder.rollback()
    assert ledger.store.head_position() == head  # nothing was stored
    assert recorder.count_index() == 0
    assert post(client, attempt())["stored"] == 1


def test_only_a_stream_version_collision_is_one(ledger: Ledger) -> None:
    recorder = ledger.store.indexed
    ledger.store.save(Learner(student_id="s1", name="S", grade="7", school_id="sch1"))
    with pytest.raises(IntegrityError) as taken:
        recorder.insert_events([StoredEvent(learner_stream("s1"), 1, "tests:Again", b"{}")])
    assert recorder.is_stream_conflict(taken.value)
    event, row = _learning_event("s1", b"{}")
    recorder.append_batch([event], [row])
    again = StoredEvent(learner_stream("s1"), 3, "tests:Again", b"{}")
    with pytest.raises(IntegrityError) as reused:
        recorder.append_batch([again], [row])  # the same event id again
    assert not recorder.is_stream_conflict(reused.value)
