"""A store written before per-source tracking and the mastery projection's
own rule versions (issue 12) opens as it was: its one position per
projection becomes the log tailer's, nothing is applied again, and the rule
versions are filled once from the objective streams, so statuses computed
after the upgrade judge by the same rules."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect

from infra.settings import Settings
from services.app import create_app
from tests.conftest import AUTH
from tests.helpers import (
    RULE_9_OF_10,
    attempt,
    ledger_of,
    mastery,
    post,
    projected,
    read_model_rows,
    seed_roster,
)


@pytest.mark.stores_only("a store from before per-source tracking adopts its log-tailing positions")
def test_a_store_from_before_keeps_its_positions_and_its_rules(settings: Settings) -> None:
    with TestClient(create_app(settings)) as c:
        c.headers.update(AUTH)
        ledger = ledger_of(c)
        seed_roster(c, ("s1", "s2"), {"o1": RULE_9_OF_10})
        position = post(c, attempt("s1", correct=9), attempt("s2", correct=3))["position"]
        assert projected(ledger, position)
        before = read_model_rows(ledger)
        names = ledger.projection_names
        # The store as the previous version left it.
        with ledger.engine.begin() as conn:
            conn.exec_driver_sql(
                "CREATE TABLE projection_tracking (projection VARCHAR PRIMARY KEY, position INTEGER NOT NULL)"
            )
            for name in names:
                conn.exec_driver_sql(
                    f"INSERT INTO projection_tracking (projection, position) VALUES ('{name}', {position})"
                )
            conn.exec_driver_sql("DROP TABLE projection_positions")
            conn.exec_driver_sql("DELETE FROM rm_rule_versions")

    with TestClient(create_app(settings)) as c:
        c.headers.update(AUTH)
        ledger = ledger_of(c)
        assert ledger.runner.position() == position, "the old position, adopted"
        assert "projection_tracking" not in inspect(ledger.engine).get_table_names()
        assert read_model_rows(ledger) == before, (
            "the rule versions filled from the log, nothing else changed"
        )
        after = post(c, attempt("s2", correct=10))["position"]
        statuses = {o["objective_id"]: o["status"] for o in mastery(c, "s2", after)["objectives"]}
        assert statuses == {"o1": "mastered"}, "judged by the rule the catalog issued"
