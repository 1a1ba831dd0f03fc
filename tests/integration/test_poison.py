"""An event the projections cannot apply is set aside; everyone else goes on (issue 10, "No poison").

The poison events are written below the edge, straight into the store, as
a bug or a future version would have written them: the edge refuses them.
Real store, real runner, real rebuild, on both stores and the distributed
deployment. Values a store cannot hold: test_poison_values.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic
from fastapi.testclient import TestClient

from domain.ids import learner_stream, objective_stream
from domain.learner import Learner
from domain.objective import Objective
from infra.settings import Settings
from services.projections.parked import HELD
from services.projections.rebuild import rebuild
from tests.helpers import (
    attempt,
    ledger_of,
    mastery,
    post,
    seed_roster,
)
from tests.integration.poison_support import (
    OBJECTIVE_BODY,
    benchmark_below_the_edge,
    define_objective_below_the_edge,
    parked_of,
    retry_parked,
    snapshot_of,
    upcast_counts_that_fit,
)


def test_an_objective_the_catalog_cannot_hold_is_set_aside_until_a_revision_and_a_retry(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = ledger_of(client)
    seed_roster(client, students=("s1",))
    poison = define_objective_below_the_edge(ledger, "o-bad", 10**30)

    # The catalog goes on past it, and so does the mastery projection.
    r = client.put("/v1/objectives/o2", json=OBJECTIVE_BODY)
    assert r.status_code == 201, r.text
    position = post(client, attempt("s1", "o1", correct=10))["position"]
    r = client.get("/v1/objectives/o2", params={"min_position": position})
    assert r.status_code == 200, r.text
    assert mastery(client, "s1", position)["objectives"][0]["status"] == "mastered"
    assert client.get("/v1/objectives/o-bad").status_code == 404

    [row] = parked_of(ledger, "catalog")
    assert row["position"] == poison
    assert row["stream_id"] == str(objective_stream("o-bad"))
    assert row["topic"] == get_topic(Objective.Defined)
    assert row["event_id"] is None and row["held_behind"] is None
    assert row["error_type"] != HELD and row["error"]
    assert row["attempts"] == 1
    assert parked_of(ledger, "mastery") == []
    assert ledger.runner.parked() == {"catalog": 1, "mastery": 0}

    # A rebuild sets aside the same event and builds the same read models.
    live = snapshot_of(ledger)
    rebuild(ledger)
    assert snapshot_of(ledger) == live

    # The fix: a valid revision. Its event waits behind the one set aside.
    r = client.put("/v1/objectives/o-bad", json={**OBJECTIVE_BODY, "sequence": 3})
    assert r.status_code == 200, r.text
    revised = r.json()["position"]
    assert client.get("/v1/objectives/o-bad", params={"min_position": revised}).status_code == 404
    failed, held = parked_of(ledger, "catalog")
    assert failed["position"] == poison
    assert (held["position"], held["held_behind"], held["error_type"]) == (revised, poison, HELD)
    assert held["topic"] == get_topic(Objective.DetailsChanged)

    code, output = retry_parked(settings, monkeypatch)
    assert code == 0, output
    assert "catalog: 2 applied, nothing set aside" in output
    assert ledger.runner.parked() == {"catalog": 0, "mastery": 0}
    r = client.get("/v1/objectives/o-bad")
    assert r.status_code == 200, r.text
    assert r.json()["sequence"] == 3

    # Retried live equals rebuilt.
    live = snapshot_of(ledger)
    rebuild(ledger)
    assert snapshot_of(ledger) == live


def test_a_students_event_the_mastery_projection_cannot_apply_holds_that_student_only(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = ledger_of(client)
    seed_roster(client, students=("s1", "s2"))
    post(client, attempt("s2", "o1", correct=9, at="2026-09-14T09:30:00Z"))
    poison_id, poison = benchmark_below_the_edge(ledger, "s2", 2**63, 2**63)
    later = attempt("s2", "o1", correct=3, at="2026-09-28T09:30:00Z")
    position = post(client, later, attempt("s1", "o1", correct=9))["position"]

    # Everyone else goes on, and reads waiting for the position answer.
    assert mastery(client, "s1", position)["objectives"][0]["status"] == "mastered"
    # The student's own events after the poison are held, not applied over the hole:
    # its status is the one before the poison (a mastered 9 of 10, not the later 3 of 10).
    [s2] = mastery(client, "s2", position)["objectives"]
    assert (s2["status"], s2["evidence_count"]) == ("mastered", 1)

    failed, held = parked_of(ledger, "mastery")
    assert (failed["position"], failed["event_id"], failed["held_behind"]) == (poison, poison_id, None)
    assert failed["stream_id"] == str(learner_stream("s2"))
    assert failed["topic"] == get_topic(Learner.BenchmarkRecorded)
    assert failed["error_type"] != HELD and failed["error"] and failed["attempts"] == 1
    assert (held["event_id"], held["held_behind"], held["error_type"]) == (later["event_id"], poison, HELD)
    assert held["attempts"] == 0
    assert ledger.runner.parked() == {"catalog": 0, "mastery": 2}

    # Retried before any fix: it fails again, and says so.
    code, output = retry_parked(settings, monkeypatch)
    assert code == 1, output
    assert "mastery: 0 applied, 2 still set aside (1 failed again, 1 held behind them)" in output
    assert poison_id in output
    failed, held = parked_of(ledger, "mastery")
    assert (failed["attempts"], held["attempts"]) == (2, 0)

    # A rebuild sets aside the same events and builds the same read models.
    live = snapshot_of(ledger)
    rebuild(ledger)
    assert snapshot_of(ledger) == live

    # The fix (an upcaster), then a retry: the poison and what waited behind it
    # apply in stream order, the later 3 of 10 now deciding.
    monkeypatch.setattr(Learner.BenchmarkRecorded, "class_version", 4, raising=False)
    monkeypatch.setattr(
        Learner.BenchmarkRecorded, "upcast_v3_v4", staticmethod(upcast_counts_that_fit), raising=False
    )
    code, output = retry_parked(settings, monkeypatch)
    assert code == 0, output
    assert "mastery: 2 applied, nothing set aside" in output
    assert ledger.runner.parked() == {"catalog": 0, "mastery": 0}
    [s2] = mastery(client, "s2", position)["objectives"]
    assert (s2["status"], s2["evidence_count"]) == ("in_progress", 2)
    # ... as the replay of the student's stream has it.
    replayed = mastery(client, "s2", position, known_at=datetime.now(UTC).isoformat())["objectives"]
    assert replayed == [s2]

    live = snapshot_of(ledger)
    rebuild(ledger, workers=1)  # in this process: worker processes would not have the test's fix
    assert snapshot_of(ledger) == live


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
    failed, held = parked_of(ledger, "mastery")
    assert failed["error_type"] == "MapperDeserialisationError"
    assert (failed["stream_id"], failed["stream_version"]) == (str(stream), head + 1)
    assert (held["event_id"], held["held_behind"]) == (later["event_id"], failed["position"])

    live = snapshot_of(ledger)
    rebuild(ledger)
    assert snapshot_of(ledger) == live
