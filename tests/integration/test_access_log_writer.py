"""The access log's writer (infra/access_log.py, issue 11): entries queued by
reads are written in batches, one multi-row INSERT each, by a thread of the
recorder's own; they survive `Ledger.close()` and a reopening; a write the
store refuses is kept, logged and retried. On both stores; batching is
counted in statements and rows, never timed."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select

from infra.access_log import Access, AccessRecorder
from infra.settings import Settings
from infra.trust import access_log, open_trust_store
from services.app import create_app
from services.bootstrap import build_ledger
from tests.conftest import AUTH
from tests.helpers import seed_roster

MASTERY = "GET /v1/students/{student_id}/mastery"


def all_rows(trust: Engine) -> list[tuple[str, str, int]]:
    a = access_log.c
    with trust.connect() as conn:
        return [tuple(r) for r in conn.execute(select(a.student_id, a.endpoint, a.status).order_by(a.id))]


def test_entries_survive_close_and_reopening(settings: Settings) -> None:
    ledger = build_ledger(settings)
    # An interval no test lasts: nothing is written before close() flushes.
    ledger.access = AccessRecorder(ledger.trust, interval=3600)
    with TestClient(create_app(settings, ledger=ledger)) as c:
        c.headers.update(AUTH)
        seed_roster(c, students=("s1",))
        assert c.get("/v1/students/s1/mastery").status_code == 200
        assert c.get("/v1/classes/c1/mastery-map").status_code == 200
        assert ledger.access.backlog == 2
    trust = open_trust_store(settings)
    try:
        rows = all_rows(trust)
    finally:
        trust.dispose()
    assert rows == [("s1", MASTERY, 200), ("s1", "GET /v1/classes/{class_id}/mastery-map", 200)]


@pytest.fixture
def inserts(settings: Settings) -> Iterator[tuple[Engine, list[int]]]:
    """A trust store, and the rows of each INSERT into access_log made through it."""
    trust = open_trust_store(settings)
    rows: list[int] = []

    @event.listens_for(trust, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ACCESS_LOG"):
            assert not many, "one multi-row statement, not executemany"
            rows.append(len(parameters) // len(Access._fields))

    try:
        yield trust, rows
    finally:
        trust.dispose()


def _entry(student: str, n: int) -> Access:
    return Access(datetime.now(UTC), "tok", "tester", "admin", student, f"GET /test/{n}", 200)


def test_the_writer_batches_many_entries_into_few_inserts(inserts: tuple[Engine, list[int]]) -> None:
    trust, rows = inserts
    recorder = AccessRecorder(trust, interval=3600, batch_rows=100)
    for n in range(250):
        recorder.record([_entry("s1", n)])
    assert recorder.flush(timeout=60)
    assert rows == [100, 100, 50]  # full batches as they fill, the rest when flushed
    recorder.close()
    with trust.connect() as conn:
        stored = conn.execute(select(access_log.c.endpoint).order_by(access_log.c.id)).scalars().all()
    assert stored == [f"GET /test/{n}" for n in range(250)]
    recorder.record([_entry("s1", 250)])  # a read that ends after close (a streamed export): written at once
    assert rows[-1] == 1


def test_reads_over_http_share_one_insert(settings: Settings) -> None:
    ledger = build_ledger(settings)
    ledger.access = AccessRecorder(ledger.trust, interval=3600)
    rows: list[int] = []

    @event.listens_for(ledger.trust, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ACCESS_LOG"):
            rows.append(len(parameters) // len(Access._fields))

    with TestClient(create_app(settings, ledger=ledger)) as c:
        c.headers.update(AUTH)
        seed_roster(c, students=("s1",))
        for _ in range(40):
            assert c.get("/v1/students/s1/mastery").status_code == 200
        assert rows == []  # queued, not written: the reads did not wait for the store
        assert "mastery_access_log_backlog 40.0" in c.get("/metrics").text.splitlines()
        assert c.get("/v1/students/s1/access-log").status_code == 200  # flushes first
        assert rows == [40]
        metrics = c.get("/metrics").text.splitlines()
        # The log's own read, after the flush; no write failed.
        assert "mastery_access_log_backlog 1.0" in metrics
        assert "mastery_access_log_failed_writes_total 0.0" in metrics


def test_a_failed_write_is_kept_logged_and_retried(
    inserts: tuple[Engine, list[int]], caplog: pytest.LogCaptureFixture
) -> None:
    trust, _ = inserts
    recorder = AccessRecorder(trust, interval=3600)
    with trust.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE access_log RENAME TO access_log_away")
    try:
        with caplog.at_level(logging.WARNING, logger="infra.access_log"):
            recorder.record([_entry("s1", 1), _entry("s2", 2)])
            assert not recorder.flush(timeout=1.0)  # the store refuses: kept, not dropped
        assert recorder.backlog == 2
        assert any("could not write 2 access-log entries" in r.getMessage() for r in caplog.records)
        assert recorder.failed_writes >= 1
    finally:
        with trust.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE access_log_away RENAME TO access_log")
    assert recorder.flush(timeout=60)
    recorder.close()
    with trust.connect() as conn:
        assert conn.execute(select(func.count()).select_from(access_log)).scalar_one() == 2
