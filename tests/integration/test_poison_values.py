"""Values one store cannot hold (issue 10, "No poison"): a rule clock entry no
tick can read does not stop the batches; a count beyond 32 bits and an
event id PostgreSQL cannot index or store are set aside there, held by
SQLite, and live and rebuilt read models agree."""

from __future__ import annotations

import secrets
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from infra.readmodels import benchmark_results, rule_clock
from services.projections.parked import storable
from services.projections.rebuild import rebuild
from tests.helpers import (
    attempt,
    ledger_of,
    mastery,
    post,
    seed_roster,
)
from tests.integration.poison_support import below_the_edge, benchmark_below_the_edge, parked_of, snapshot_of


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
    benchmark_below_the_edge(ledger, "s1", 2**31, 2**31)
    post(client, attempt("s1", "o1"))
    live = snapshot_of(ledger)
    rebuild(ledger)
    assert snapshot_of(ledger) == live
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
    _, at = below_the_edge(ledger, "s2", "attempt", body, event_id=event_id)
    position = post(client, attempt("s1", "o1"))["position"]
    assert mastery(client, "s1", position)["objectives"][0]["status"] == "mastered"
    parked = parked_of(ledger, "mastery")
    if ledger.settings.database_url:
        [row] = parked
        assert (row["position"], row["event_id"], row["error_type"]) == (at, storable(event_id), refusal)
    else:
        assert parked == []
    live = snapshot_of(ledger)
    rebuild(ledger)
    assert snapshot_of(ledger) == live
