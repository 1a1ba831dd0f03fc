"""What the tamper-evidence tests share (issue 11): the event log's rows read
and changed below the application (`RawLog`), the CLI run against a store
(`run_cli`), the check of the line a broken chain prints (`broken`), and a
school of three students whose event ids are known by stream version
(`school`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import psycopg
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from domain.ids import learner_stream
from infra import recorders_postgres_log, recorders_sqlite
from infra.settings import Settings
from services import cli, verify
from tests.helpers import attempt, ledger_of, post, seed_roster

STUDENTS = ("s1", "s2", "s3")


def use_small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of a few rows, so that streams span pages as they do in a large log."""
    monkeypatch.setattr(verify, "PAGE", 5)
    monkeypatch.setattr(recorders_sqlite, "SEAL_PAGE", 3)
    monkeypatch.setattr(recorders_postgres_log, "SEAL_PAGE", 3)


class RawLog:
    """The event log's rows, read and changed below the application, as
    someone holding the file or the database could."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.postgres = settings.database_url is not None
        self.table = "masteryledger_events" if self.postgres else "stored_events"

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        if self.settings.database_url is not None:
            with psycopg.connect(self.settings.database_url) as conn, conn.cursor() as cur:
                yield cur
            return
        lite = sqlite3.connect(self.settings.events_path)
        try:
            with lite:  # commits
                yield lite.cursor()
        finally:
            lite.close()

    def _run(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        if not self.postgres:
            sql = sql.replace("%s", "?")
        with self._cursor() as cur:
            cur.execute(
                sql.format(t=self.table),
                [p.hex if isinstance(p, UUID) and not self.postgres else p for p in params],
            )
            return list(cur.fetchall()) if cur.description else []

    def state(self, stream: UUID, version: int) -> bytes:
        return bytes(
            self._run(
                "SELECT state FROM {t} WHERE originator_id = %s AND originator_version = %s", stream, version
            )[0][0]
        )

    def set_state(self, stream: UUID, version: int, state: bytes) -> None:
        self._run(
            "UPDATE {t} SET state = %s WHERE originator_id = %s AND originator_version = %s",
            state,
            stream,
            version,
        )

    def delete(self, stream: UUID, version: int) -> None:
        self._run("DELETE FROM {t} WHERE originator_id = %s AND originator_version = %s", stream, version)

    def head(self, stream: UUID) -> int:
        return int(
            self._run("SELECT MAX(originator_version) FROM {t} WHERE originator_id = %s", stream)[0][0]
        )

    def count(self) -> int:
        return int(self._run("SELECT COUNT(*) FROM {t}")[0][0])

    def chains(self) -> list[bytes | None]:
        return [None if c is None else bytes(c) for (c,) in self._run("SELECT chain FROM {t}")]

    def remove_chain(self, stream: UUID, version: int) -> None:
        self._run(
            "UPDATE {t} SET chain = NULL WHERE originator_id = %s AND originator_version = %s",
            stream,
            version,
        )

    def drop_chain_column(self) -> None:
        """Make the store one written before the chain existed."""
        self._run("ALTER TABLE {t} DROP COLUMN chain")


def run_cli(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, *args: str, command: str = "verify"
) -> Result:
    monkeypatch.setenv("MASTERY_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("MASTERY_DATABASE_URL", settings.database_url)
    return CliRunner().invoke(cli.app, [command, *args])


def broken(done: Result, stream: UUID, version: int, event_id: str | None, kind: str) -> str:
    """The line a failed verify or replay printed, checked for what it names."""
    assert done.exit_code == 1, done.output
    line: str = done.stderr.strip().splitlines()[-1]
    assert f"stream {stream}" in line, line
    assert f" version {version}" in line and f" version {version + 1}" not in line.split(": ")[1], line
    assert (f"(event_id {event_id})" in line) if event_id else ("event_id" not in line), line
    assert f": {kind}: " in line, line
    return line


def school(client: TestClient) -> dict[str, dict[int, str]]:
    """Three students with four attempts each, posted as single events and as
    one batch: their event ids by the version they hold in the learning stream."""
    seed_roster(client, students=STUDENTS)
    ids: dict[str, list[str]] = {s: [] for s in STUDENTS}
    for s in STUDENTS:
        e = attempt(s, correct=9)
        post(client, e)
        ids[s].append(e["event_id"])
    batch = [attempt(s, correct=9, at=f"2026-09-{15 + i}T09:30:00Z") for i in range(3) for s in STUDENTS]
    post(client, *batch)
    for e in batch:
        ids[e["student_id"]].append(e["event_id"])
    heads = ledger_of(client).store.indexed.select_heads([learner_stream(s) for s in STUDENTS])
    return {
        s: {heads[learner_stream(s)] - len(ids[s]) + 1 + i: event_id for i, event_id in enumerate(ids[s])}
        for s in STUDENTS
    }
