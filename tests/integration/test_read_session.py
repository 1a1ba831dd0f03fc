"""What every read shares (services/http.py ReadDep): the position it reports,
and a pool without a pre-ping, where a connection the database dropped is
found by the read's first statement and the read runs once more on a fresh
one (PostgreSQL only: SQLite has no connection to drop)."""

from __future__ import annotations

from pathlib import Path

import psycopg
from fastapi.testclient import TestClient

from infra.settings import load_settings
from infra.tracking import reached_position, set_position
from services.app import create_app
from services.bootstrap import Ledger
from tests.conftest import AUTH, BOOT
from tests.helpers import attempt, post, seed_roster
from tests.services import fresh_postgres_database


def _drop_other_connections(url: str) -> int:
    """What a database restart does to a client's pooled connections."""
    with psycopg.connect(url, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)


def test_a_read_on_a_dropped_connection_runs_again_on_a_fresh_one(tmp_path: Path) -> None:
    with fresh_postgres_database() as url:
        settings = load_settings(data_dir=tmp_path / "data", bootstrap_token=BOOT, database_url=url)
        with TestClient(create_app(settings)) as c:
            c.headers.update(AUTH)
            seed_roster(c, students=("s1",))
            pos = post(c, attempt("s1", "o1", correct=10))["position"]
            first = c.get("/v1/classes/c1/mastery-map", params={"min_position": pos})
            assert first.status_code == 200, first.text  # the reader pool now holds a connection

            assert _drop_other_connections(url) > 0
            again = c.get("/v1/classes/c1/mastery-map")
            assert again.status_code == 200, again.text
            assert again.json() == first.json()
            assert int(again.headers["X-Projection-Position"]) >= pos


def test_the_position_reported_is_the_one_every_projection_has_reached(ledger: Ledger) -> None:
    with ledger.engine.begin() as conn:
        set_position(conn, "catalog", 7)
        set_position(conn, "mastery", 5)
    with ledger.reader.connect() as conn:
        assert reached_position(conn, ["catalog", "mastery"]) == 5
        assert reached_position(conn, ["catalog"]) == 7
        assert reached_position(conn, ["catalog", "mastery", "not-yet-tracked"]) == 0
