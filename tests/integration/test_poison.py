"""An event the projections cannot apply is set aside; everyone else goes on (issue 10, "No poison").

The poison events are written below the edge, straight into the store, as
a bug or a future version would have written them: the edge refuses them.
Real store, real runner, real rebuild, on both stores.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from domain.ids import learner_stream, objective_stream
from domain.learner import Learner, learning_event
from domain.objective import Objective
from infra.readmodels import benchmark_results, parked_events, rule_clock
from infra.settings import Settings
from services import cli
from services.bootstrap import Ledger
from services.projections.parked import HELD, storable
from services.projections.rebuild import rebuild
from tests.helpers import (
    RULE_9_OF_10,
    attempt,
    ledger_of,
    mastery,
    new_id,
    post,
    projected,
    read_model_rows,
    seed_roster,
)

OBJECTIVE_BODY: dict[str, Any] = {
    "statement": "Solve two-step equations",
    "subject": "math",
    "course": "algebra-1",
    "unit": "u2",
    "rule": RULE_9_OF_10,
    "effective_from": "2026-08-01T00:00:00Z",
}


def _caught_up(ledger: Ledger) -> None:
    assert projected(ledger, ledger.store.head_position(), 30)


def _parked(ledger: Ledger, projection: str) -> list[dict[str, Any]]:
    t = parked_events
    with ledger.engine.connect() as conn:
        rows = conn.execute(select(t).where(t.c.projection == projection).order_by(t.c.position))
        return [dict(r._mapping) for r in rows]


def _snapshot(ledger: Ledger) -> dict[str, list[tuple[Any, ...]]]:
    """Every read-model row, and which events are set aside (failed or held behind which)."""
    _caught_up(ledger)
    out = read_model_rows(ledger)
    t = parked_events
    keys = (t.c.projection, t.c.position, t.c.stream_id, t.c.stream_version, t.c.event_id, t.c.topic)
    with ledger.engine.connect() as conn:
        rows = conn.execute(select(*keys, t.c.held_behind).order_by(t.c.projection, t.c.position))
        out[t.name] = [tuple(r) for r in rows]
    return out


def _retry(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.setenv("MASTERY_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("MASTERY_DATABASE_URL", settings.database_url)
    done = CliRunner().invoke(cli.app, ["projections", "retry"])
    return done.exit_code, done.output


def _define_objective_below_the_edge(ledger: Ledger, objective_id: str, sequence: int) -> int:
    """As a bug in the edge would have let through: a sequence no read model can hold."""
    body = {k: v for k, v in OBJECTIVE_BODY.items() if k != "effective_from"}
    objective = Objective(
        objective_id=objective_id,
        sequence=sequence,
        prerequisites=[],
        effective_from=datetime(2026, 8, 1, tzinfo=UTC),
        **body,
    )
    recordings = ledger.store.events.put(objective.collect_events())
    return max(r.notification.id for r in recordings)


def test_an_objective_the_catalog_cannot_hold_is_set_aside_until_a_revision_and_a_retry(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = ledger_of(client)
    seed_roster(client, students=("s1",))
    poison = _define_objective_below_the_edge(ledger, "o-bad", 10**30)

    # The catalog goes on past it, and so does the mastery projection.
    r = client.put("/v1/objectives/o2", json=OBJECTIVE_BODY)
    assert r.status_code == 201, r.text
    position = post(client, attempt("s1", "o1", correct=10))["position"]
    r = client.get("/v1/objectives/o2", params={"min_position": position})
    assert r.status_code == 200, r.text
    assert mastery(client, "s1", position)["objectives"][0]["status"] == "mastered"
    assert client.get("/v1/objectives/o-bad").status_code == 404

    [row] = _parked(ledger, "catalog")
    assert row["position"] == poison
    assert row["stream_id"] == str(objective_stream("o-bad"))
    assert row["topic"] == get_topic(Objective.Defined)
    assert row["event_id"] is None and row["held_behind"] is None
    assert row["error_type"] != HELD and row["error"]
    assert row["attempts"] == 1
    assert _parked(ledger, "mastery") == []
    assert ledger.runner.parked() == {"catalog": 1, "mastery": 0}

    # A rebuild sets aside the same event and builds the same read models.
    live = _snapshot(ledger)
    rebuild(ledger)
    assert _snapshot(ledger) == live

    # The fix: a valid revision. Its event waits behind the one set aside.
    r = client.put("/v1/objectives/o-bad", json={**OBJECTIVE_BODY, "sequence": 3})
    assert r.status_code == 200, r.text
    revised = r.json()["position"]
    assert client.get("/v1/objectives/o-bad", params={"min_position": revised}).status_code == 404
    failed, held = _parked(ledger, "catalog")
    assert failed["position"] == poison
    assert (held["position"], held["held_behind"], held["error_type"]) == (revised, poison, HELD)
    assert held["topic"] == get_topic(Objective.DetailsChanged)

    code, output = _retry(settings, monkeypatch)
    assert code == 0, output
    assert "catalog: 2 applied, nothing set aside" in output
    assert ledger.runner.parked() == {"catalog": 0, "mastery": 0}
    r = client.get("/v1/objectives/o-bad")
    assert r.status_code == 200, r.text
    assert r.json()["sequence"] == 3

    # Retried live equals rebuilt.
    live = _snapshot(ledger)
    rebuild(ledger)
    assert _snapshot(ledger) == live


def _below_the_edge(
    ledger: Ledger, student: str, record_type: str, body: dict[str, Any], event_id: str | None = None
) -> tuple[str, int]:
    """Append a learning event to the student's stream as a bug in the edge would have."""
    stream = learner_stream(student)
    head = ledger.store.indexed.select_heads([stream]).get(stream, 0)
    event_id = event_id or new_id()
    event = learning_event(
        record_type,
        student_id=student,
        version=head + 1,
        recorded_at=datetime.now(UTC),
        event_id=event_id,
        occurred_at=datetime(2026, 9, 20, 9, tzinfo=UTC),
        recorded_by="ingest:sis",
        request_id="below-the-edge",
        payload=body,
        personal=None,
    )
    [recording] = ledger.store.events.put([event])
    return event_id, recording.notification.id


def _benchmark_below_the_edge(ledger: Ledger, student: str, correct: int, total: int) -> tuple[str, int]:
    """A benchmark result no read-model column holds (beyond 64 bits signed)."""
    results = [{"objective_id": "o1", "correct": correct, "total": total}]
    body = {"benchmark_id": "fall-screener", "name": "Fall screener", "results": results}
    return _below_the_edge(ledger, student, "benchmark", body)


def _upcast_counts_that_fit(state: dict[str, Any]) -> None:
    """The stand-in for a fix deployed after the fact: version 4 of the event
    class reads version 3's impossible counts as one of one."""
    for r in state["results"]:
        if r["total"] > 1_000_000:
            r["correct"], r["total"] = 1, 1


def test_a_students_event_the_mastery_projection_cannot_apply_holds_that_student_only(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = ledger_of(client)
    seed_roster(client, students=("s1", "s2"))
    post(client, attempt("s2", "o1", correct=9, at="2026-09-14T09:30:00Z"))
    poison_id, poison = _benchmark_below_the_edge(ledger, "s2", 2**63, 2**63)
    later = attempt("s2", "o1", correct=3, at="2026-09-28T09:30:00Z")
    position = post(client, later, attempt("s1", "o1", correct=9))["position"]

    # Everyone else goes on, and reads waiting for the position answer.
    assert mastery(client, "s1", position)["objectives"][0]["status"] == "mastered"
    # The student's own events after the poison are held, not applied over the hole:
    # its status is the one before the poison (a mastered 9 of 10, not the later 3 of 10).
    [s2] = mastery(client, "s2", position)["objectives"]
    assert (s2["status"], s2["evidence_count"]) == ("mastered", 1)

    failed, held = _parked(ledger, "mastery")
    assert (failed["position"], failed["event_id"], failed["held_behind"]) == (poison, poison_id, None)
    assert failed["stream_id"] == str(learner_stream("s2"))
    assert failed["topic"] == get_topic(Learner.BenchmarkRecorded)
    assert failed["error_type"] != HELD and failed["error"] and failed["attempts"] == 1
    assert (held["event_id"], held["held_behind"], held["error_type"]) == (later["event_id"], poison, HELD)
    assert held["attempts"] == 0
    assert ledger.runner.parked() == {"catalog": 0, "mastery": 2}

    # Retried before any fix: it fails again, and says so.
    code, output = _retry(settings, monkeypatch)
    assert code == 1, output
    assert "mastery: 0 applied, 2 still set aside (1 failed again, 1 held behind them)" in output
    assert poison_id in output
    failed, held = _parked(ledger, "mastery")
    assert (failed["attempts"], held["attempts"]) == (2, 0)

    # A rebuild sets aside the same events and builds the same read models.
    live = _snapshot(ledger)
    rebuild(ledger)
    assert _snapshot(ledger) == live

    # The fix (an upcaster), then a retry: the poison and what waited behind it
    # apply in stream order, the later 3 of 10 now deciding.
    monkeypatch.setattr(Learner.BenchmarkRecorded, "class_version", 4, raising=False)
    monkeypatch.setattr(
        Learner.BenchmarkRecorded, "upcast_v3_v4", staticmethod(_upcast_counts_that_fit), raising=False
    )
    code, output = _retry(settings, monkeypatch)
    assert code == 0, output
    assert "mastery: 2 applied, nothing set aside" in output
    assert ledger.runner.parked() == {"catalog": 0, "mastery": 0}
    [s2] = mastery(client, "s2", position)["objectives"]
    assert (s2["status"], s2["evidence_count"]) == ("in_progress", 2)
    # ... as the replay of the student's stream has it.
    replayed = mastery(client, "s2", position, known_at=datetime.now(UTC).isoformat())["objectives"]
    assert replayed == [s2]

    live = _snapshot(ledger)
    rebuild(ledger, workers=1)  # in this process: worker processes would not have the test's fix
    assert _snapshot(ledger) == live


def test_an_event_the_store_cannot_decode_is_set_aside_with_the_rest_of_its_stream(
    client: TestClient,
) -> None:
    ledger = ledger_of(client)
    seed_roster(client, students=("s1", "s2"))
    stream = learner_stream("s2")
    head = ledger.store.indexed.select_heads([stream]).get(stream, 0)
    # A future version's encoding this one cannot read.
    garbled = StoredEvent(stream, head + 1, get_topic(Learner.AttemptRecorded), b"\x00\x01 not json")
    ledger.store.recorder.insert_events([garbled])
    later = attempt("s2", "o1")
    position = post(client, later, attempt("s1", "o1"))["position"]

    assert mastery(client, "s1", position)["objectives"][0]["status"] == "mastered"
    assert mastery(client, "s2", position)["objectives"] == []
    failed, held = _parked(ledger, "mastery")
    assert failed["error_type"] == "MapperDeserialisationError"
    assert (failed["stream_id"], failed["stream_version"]) == (str(stream), head + 1)
    assert (held["event_id"], held["held_behind"]) == (later["event_id"], failed["position"])

    live = _snapshot(ledger)
    rebuild(ledger)
    assert _snapshot(ledger) == live


def test_a_failing_rule_clock_tick_does_not_stop_the_batches(client: TestClient) -> None:
    ledger = ledger_of(client)
    seed_roster(client, students=("s1",))
    with ledger.engine.begin() as conn:  # a clock entry no tick can read
        conn.execute(rule_clock.insert().values(objective_id="o1", version=2, effective_from="someday"))
    time.sleep(1.5)  # the runner ticks every second: it has tried it by now
    position = post(client, attempt("s1", "o1", correct=10))["position"]
    assert mastery(client, "s1", position)["objectives"][0]["status"] == "mastered"


def test_a_count_beyond_32_bits_gives_the_same_read_models_live_and_rebuilt(client: TestClient) -> None:
    """PostgreSQL's integer columns end at 2**31 - 1: live, the INSERT refused
    such a count, while the rebuild's binary COPY stored it wrapped to -2**31.
    Now both set the event aside there; SQLite holds it, and both apply it."""
    ledger = ledger_of(client)
    seed_roster(client, students=("s1",))
    _benchmark_below_the_edge(ledger, "s1", 2**31, 2**31)
    post(client, attempt("s1", "o1"))
    live = _snapshot(ledger)
    rebuild(ledger)
    assert _snapshot(ledger) == live
    with ledger.engine.connect() as conn:
        t = benchmark_results
        counts = [tuple(r) for r in conn.execute(select(t.c.correct, t.c.total))]
    assert counts == ([] if ledger.settings.database_url else [(2**31, 2**31)])


@pytest.mark.parametrize(
    ("event_id", "refusal"),
    [(secrets.token_hex(10_000), "ProgramLimitExceeded"), ("nul\x00in-the-id", "CharacterNotInRepertoire")],
    ids=["too-large-for-an-index", "nul"],
)
def test_an_event_id_postgresql_cannot_store_is_set_aside_not_retried_forever(
    client: TestClient, event_id: str, refusal: str
) -> None:
    """PostgreSQL refuses an index entry beyond a third of a page with "program
    limit exceeded", which psycopg files under OperationalError: taken for a
    passing trouble, it was retried forever. Nor does it store NUL in text,
    and the record of the event must not be poison itself. Both are the
    event's: set aside there (SQLite holds them), and a rebuild agrees."""
    ledger = ledger_of(client)
    seed_roster(client, students=("s1", "s2"))
    body = {"objective_id": "o1", "form": "A", "evidence": "quiz", "score": {"correct": 9, "total": 10}}
    _, at = _below_the_edge(ledger, "s2", "attempt", body, event_id=event_id)
    position = post(client, attempt("s1", "o1"))["position"]
    assert mastery(client, "s1", position)["objectives"][0]["status"] == "mastered"
    parked = _parked(ledger, "mastery")
    if ledger.settings.database_url:
        [row] = parked
        assert (row["position"], row["event_id"], row["error_type"]) == (at, storable(event_id), refusal)
    else:
        assert parked == []
    live = _snapshot(ledger)
    rebuild(ledger)
    assert _snapshot(ledger) == live
