"""The CLI names the store it opened, refuses to make an empty one by accident,
refuses a busy port before announcing it, and prints the replay table's times
and scores as the JSON reads do (issue 13, item 6)."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from infra.settings import Settings
from services import cli
from tests.helpers import attempt, post, seed_roster
from tests.services import fresh_postgres_database

MASTERY = str(Path(sys.executable).with_name("mastery"))
CASE_PACKAGE = Path(__file__).parents[1] / "fixtures" / "case" / "lincoln-math.json"

# Every command that reads a store, with what it needs besides the store.
READERS = [
    ["replay", "s1"],
    ["verify"],
    ["rebuild"],
    ["export", "--kind", "events"],
    ["projections", "retry"],
    ["token", "create", "--role", "admin"],
    # Checks its package before the store, so a valid one: refused for the store alone.
    ["import", "case", str(CASE_PACKAGE), "--rule", '{"threshold": {"kind": "percent", "min": 80}}'],
]


@pytest.fixture
def embedded_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MASTERY_DATABASE_URL", raising=False)
    monkeypatch.delenv("MASTERY_DATA_DIR", raising=False)


@pytest.mark.parametrize("command", READERS, ids=lambda c: " ".join(c[:2]))
def test_a_data_dir_that_does_not_exist_is_refused_and_not_created(
    command: list[str], tmp_path: Path, embedded_env: None
) -> None:
    missing = tmp_path / "typo"
    done = CliRunner().invoke(cli.app, [*command, "--data-dir", str(missing)])
    assert done.exit_code == 2, done.output
    assert done.stdout == ""
    assert done.stderr == f"mastery: no store at {missing}: the directory does not exist " + (
        "(give --data-dir or MASTERY_DATA_DIR)\n"
    )
    assert not missing.exists()


@pytest.mark.parametrize("command", READERS, ids=lambda c: " ".join(c[:2]))
def test_a_data_dir_without_an_event_store_is_refused_and_left_empty(
    command: list[str], tmp_path: Path, embedded_env: None
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    done = CliRunner().invoke(cli.app, [*command, "--data-dir", str(empty)])
    assert done.exit_code == 2, done.output
    assert done.stderr == f"mastery: no store at {empty}: it holds no event store (events.sqlite)\n"
    assert list(empty.iterdir()) == []


def test_a_postgres_database_without_an_event_store_is_refused_and_left_empty(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with fresh_postgres_database() as url:
        monkeypatch.setenv("MASTERY_DATABASE_URL", url)
        where = url.rsplit("@", 1)[1]
        for command in READERS:
            done = CliRunner().invoke(cli.app, command)
            assert done.exit_code == 2, (command, done.output)
            assert done.stderr == (
                f"mastery: no store in PostgreSQL {where}: the database holds no event store\n"
            ), command
        with psycopg.connect(url) as conn:
            tables = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
        assert tables == []


def _cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch, database_url: str | None = None) -> None:
    monkeypatch.setenv("MASTERY_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("MASTERY_DATABASE_URL", database_url or settings.database_url)


def test_every_reader_names_the_store_it_opened_and_never_a_password(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_roster(client)
    post(client, attempt("s1", "o1"))
    # Trust authentication ignores the password: it is there to be hidden.
    url = settings.database_url and settings.database_url.replace("postgres@", "postgres:hunter2@")
    _cli_env(settings, monkeypatch, url)
    if settings.database_url:
        host_db = settings.database_url.rsplit("@", 1)[1]  # 127.0.0.1:5432/NAME
        expected = f"mastery: store: PostgreSQL {host_db}\n"
    else:
        expected = f"mastery: store: embedded SQLite under {settings.data_dir.resolve()}\n"
    for command in READERS:
        done = CliRunner().invoke(cli.app, command)
        assert done.exit_code in (0, 1), (command, done.output)  # retry: 1 while something is set aside
        assert done.stderr.startswith(expected), (command, done.stderr)
        assert "hunter2" not in done.output


def test_the_replay_table_shows_times_and_scores_as_the_json_reads_do(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    levels = ["beginning", "developing", "secure"]
    rubric = {"threshold": {"kind": "rubric", "levels": levels, "min_level": "secure"}}
    seed_roster(client, objectives={"o1": {"threshold": {"kind": "percent", "min": 80}}, "o2": rubric})
    pct = attempt("s1", "o1", at="2026-09-14T09:30:00-05:00")
    pct["score"] = {"percent": 83.33333}
    level = attempt("s1", "o2", at="2026-09-15T14:00:00Z")
    level["score"] = {"rubric_level": "secure"}
    position = post(client, pct, level)["position"]
    history = client.get("/v1/students/s1/history", params={"min_position": position}).json()["events"]
    _cli_env(settings, monkeypatch)

    done = CliRunner().invoke(cli.app, ["replay", "s1"])
    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    rows = [line.split() for line in lines[3:5]]
    # RFC 3339 with the event's offset, Z for UTC, as the history endpoint writes it.
    assert [r[0] for r in rows] == ["2026-09-14T09:30:00-05:00", "2026-09-15T14:00:00Z"]
    assert [r[0] for r in rows] == [h["occurred_at"] for h in history]
    for r, h in zip(rows, history, strict=True):
        assert datetime.fromisoformat(r[1]) == datetime.fromisoformat(h["recorded_at"]).replace(microsecond=0)
        assert r[1].endswith("Z")
    assert "quiz form A: 83.3 %" in lines[3]
    assert "quiz form A: secure" in lines[4] and "'secure'" not in lines[4]


def test_demo_on_a_busy_port_says_so_before_announcing_or_loading(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [MASTERY, "demo", "--students", "10", "--port", str(port), "--data-dir", str(tmp_path / "d")],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr == (
        f"mastery: port {port} on 127.0.0.1 is already in use; stop what listens there or give --port\n"
    )
    assert not (tmp_path / "d").exists()  # nothing loaded
