"""The chain over time (issue 11): stores written before the chain are sealed
once, when first opened by this version; a value removed later is a break,
not a row to seal again; a write without a chain key stores nothing; a batch
whose heads move before the lock is chained from the new heads; an erasure
leaves every chain whole."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.ids import learner_stream
from domain.learner import learning_event
from infra.eventstore import IndexRow
from infra.settings import Settings
from services.app import create_app
from tests.conftest import AUTH
from tests.helpers import attempt, ledger_of, post, seed_roster
from tests.integration.tamper_support import RawLog, broken, run_cli, school, use_small_pages


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    use_small_pages(monkeypatch)


def _reopened(settings: Settings, work: Callable[[TestClient], Any]) -> Any:
    with TestClient(create_app(settings)) as c:
        c.headers.update(AUTH)
        return work(c)


def test_a_store_written_before_the_chain_is_sealed_when_opened(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _reopened(settings, school)
    raw = RawLog(settings)
    raw.drop_chain_column()
    before = raw.count()
    # Opened by this version (here by `verify` itself): the column comes back, every row sealed.
    done = run_cli(settings, monkeypatch)
    assert done.exit_code == 0, done.output
    assert len(raw.chains()) == before and None not in raw.chains()
    _reopened(settings, lambda c: post(c, attempt("s1"), attempt("s2")))  # chained on from the sealed heads
    assert run_cli(settings, monkeypatch).exit_code == 0


def test_a_chain_value_removed_later_is_a_break_and_not_sealed_again(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _reopened(settings, school)
    raw, stream = RawLog(settings), learner_stream("s2")
    raw.set_state(stream, 4, raw.state(stream, 4).replace(b'"correct":9', b'"correct":2'))
    raw.remove_chain(stream, 4)  # and hope the next start seals it as a legacy row
    _reopened(settings, lambda c: None)
    broken(run_cli(settings, monkeypatch), stream, 4, ids["s2"][4], "altered")
    assert None in raw.chains()


def test_writes_without_a_chain_key_store_nothing(client: TestClient) -> None:
    from eventsourcing.persistence import StoredEvent

    from infra.recorders import ChainKeyMissing

    seed_roster(client)
    recorder = ledger_of(client).store.indexed
    head = ledger_of(client).store.head_position()
    key, recorder.chain_key = recorder.chain_key, None
    try:
        with pytest.raises(ChainKeyMissing):
            recorder.insert_events([StoredEvent(learner_stream("s9"), 1, "tests:Nothing", b"{}")])
    finally:
        recorder.chain_key = key
    assert ledger_of(client).store.head_position() == head


@pytest.mark.stores_only("patches the writing process's recorder in place (not ingest's, there)")
def test_a_batch_whose_heads_move_before_the_lock_is_chained_from_the_new_heads(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch is hashed before it takes the log's lock, from the heads as they
    were; another writer appending to its student in between moves them, and
    the batch is hashed again from the heads read under the lock."""
    school(client)
    store = ledger_of(client).store
    recorder = store.indexed
    chained = recorder.chained
    calls: list[int] = []

    def racing(events: Any, heads: Any) -> Any:
        calls.append(len(events))
        if len(calls) == 1:  # the posted batch has hashed: another writer's event for s1 goes in first
            other = learning_event(
                "goal",
                student_id="s1",
                version=1,  # numbered from the head under the lock
                recorded_at=datetime.now(UTC),
                event_id="racing-goal",
                occurred_at=datetime.now(UTC),
                recorded_by="tests",
                request_id="race",
                payload={"target_mastered": 3, "due": "2026-12-01"},
                personal=None,
            )
            row = IndexRow("racing-goal", "s1", "goal", None, "hash")
            recorder.append_batch([store.mapper.to_stored_event(other)], [row])
        return chained(events, heads)

    monkeypatch.setattr(recorder, "chained", racing)
    raw = RawLog(settings)
    before = raw.head(learner_stream("s1"))
    post(client, attempt("s1"), attempt("s2"))
    # The posted batch before the lock, the racing one (its heads did not move), the posted one again.
    assert calls == [2, 1, 2]
    assert raw.head(learner_stream("s1")) == before + 2  # the racing goal, then the posted attempt
    assert run_cli(settings, monkeypatch).exit_code == 0


def test_an_erasure_leaves_the_chain_whole(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Erasure destroys the student's key and records itself as an event: the
    events themselves are untouched, so every chain still verifies."""
    school(client)
    erased = run_cli(settings, monkeypatch, "s2", "--reason", "request DPO-1", command="erase")
    assert erased.exit_code == 0, erased.output
    done = run_cli(settings, monkeypatch)
    assert done.exit_code == 0, done.output
    assert run_cli(settings, monkeypatch, "--student", "s2").exit_code == 0
    assert run_cli(settings, monkeypatch, "s2", command="replay").exit_code == 0
