"""What the poison tests share: events written below the edge, straight into
the store, as a bug or a future version would have written them; the
parked events of a projection; the read models as rows once caught up; a
`mastery retry-parked` run."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from domain.ids import learner_stream
from domain.learner import learning_event
from domain.objective import Objective
from infra.readmodels import parked_events
from infra.settings import Settings
from services import cli
from services.bootstrap import Ledger
from tests.helpers import (
    RULE_9_OF_10,
    new_id,
    projected,
    read_model_rows,
)

OBJECTIVE_BODY: dict[str, Any] = {
    "statement": "Solve two-step equations",
    "subject": "math",
    "course": "algebra-1",
    "unit": "u2",
    "rule": RULE_9_OF_10,
    "effective_from": "2026-08-01T00:00:00Z",
}


def caught_up(ledger: Ledger) -> None:
    assert projected(ledger, ledger.store.head_position(), 30)


def parked_of(ledger: Ledger, projection: str) -> list[dict[str, Any]]:
    t = parked_events
    with ledger.engine.connect() as conn:
        rows = conn.execute(select(t).where(t.c.projection == projection).order_by(t.c.position))
        return [dict(r._mapping) for r in rows]


def snapshot_of(ledger: Ledger) -> dict[str, list[tuple[Any, ...]]]:
    """Every read-model row, and which events are set aside (failed or held behind which)."""
    caught_up(ledger)
    out = read_model_rows(ledger)
    t = parked_events
    keys = (t.c.projection, t.c.position, t.c.stream_id, t.c.stream_version, t.c.event_id, t.c.topic)
    with ledger.engine.connect() as conn:
        rows = conn.execute(select(*keys, t.c.held_behind).order_by(t.c.projection, t.c.position))
        out[t.name] = [tuple(r) for r in rows]
    return out


def retry_parked(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.setenv("MASTERY_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("MASTERY_DATABASE_URL", settings.database_url)
    done = CliRunner().invoke(cli.app, ["projections", "retry"])
    return done.exit_code, done.output


def define_objective_below_the_edge(ledger: Ledger, objective_id: str, sequence: int) -> int:
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


def below_the_edge(
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


def benchmark_below_the_edge(ledger: Ledger, student: str, correct: int, total: int) -> tuple[str, int]:
    """A benchmark result no read-model column holds (beyond 64 bits signed)."""
    results = [{"objective_id": "o1", "correct": correct, "total": total}]
    body = {"benchmark_id": "fall-screener", "name": "Fall screener", "results": results}
    return below_the_edge(ledger, student, "benchmark", body)


def upcast_counts_that_fit(state: dict[str, Any]) -> None:
    """The stand-in for a fix deployed after the fact: version 4 of the event
    class reads version 3's impossible counts as one of one."""
    for r in state["results"]:
        if r["total"] > 1_000_000:
            r["correct"], r["total"] = 1, 1
