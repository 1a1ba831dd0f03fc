"""The recorders' whole-stream read (the replays' read, infra/recorders_*.py)
returns exactly what the library's own `select_events` returns, on each backend."""

from __future__ import annotations

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from fastapi.testclient import TestClient

from domain.ids import learner_stream
from infra.recorders_postgres import IndexedPostgresRecorder
from services.bootstrap import Ledger
from tests.helpers import attempt, post, seed_roster


def library_select(recorder: object, originator_id: object, **kw: object) -> list[StoredEvent]:
    base = (
        PostgresApplicationRecorder
        if isinstance(recorder, IndexedPostgresRecorder)
        else SQLiteApplicationRecorder
    )
    return list(base.select_events(recorder, originator_id, **kw))  # type: ignore[arg-type]


def test_whole_stream_read_equals_the_librarys(client: TestClient) -> None:
    seed_roster(client)
    post(client, *(attempt(correct=c, at=f"2026-09-{10 + c}T09:30:00-05:00") for c in range(6)))
    ledger: Ledger = client.app.state.ledger  # type: ignore[attr-defined]
    recorder = ledger.store.recorder
    stream = learner_stream("s1")
    ours = list(recorder.select_events(stream))
    assert len(ours) == 6  # six attempts (the profile has a stream of its own)
    assert ours == library_select(recorder, stream)
    assert [type(e.originator_id) for e in ours] == [
        type(e.originator_id) for e in library_select(recorder, stream)
    ]
    for as_text in (str(stream), stream.hex):
        assert list(recorder.select_events(as_text)) == library_select(recorder, as_text)
    assert list(recorder.select_events(learner_stream("nobody"))) == []
    assert list(recorder.select_events(stream, gt=2, limit=3)) == library_select(
        recorder, stream, gt=2, limit=3
    )
