"""Which errors the projections retry as the database's trouble, and which set an event aside."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import exc

from infra.transient import is_transient
from services.projections.parked import storable


def _wrapped(orig: Exception, kind: type[exc.DBAPIError]) -> exc.DBAPIError:
    return kind("INSERT …", {}, orig)


def _sqlite_error(tmp_path: Path, case: str) -> sqlite3.Error:
    """A real error of SQLite's, with its result code."""
    db = str(tmp_path / "t.db")
    a = sqlite3.connect(db, timeout=0, isolation_level=None)
    b = sqlite3.connect(db, timeout=0, isolation_level=None)
    a.execute("CREATE TABLE t (x)")
    a.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 100)
    a.execute("BEGIN IMMEDIATE")
    statements = {
        "busy": (b, "BEGIN IMMEDIATE", ()),
        "no such table": (a, "SELECT * FROM missing", ()),
        "too big": (a, "INSERT INTO t VALUES (?)", ("x" * 200,)),
    }
    conn, sql, params = statements[case]
    try:
        conn.execute(sql, params)
    except sqlite3.Error as e:
        return e
    finally:
        a.close()
        b.close()
    raise AssertionError(f"{case}: no error")


@pytest.mark.parametrize(("case", "transient"), [("busy", True), ("no such table", True), ("too big", False)])
def test_sqlite_errors_by_result_code(tmp_path: Path, case: str, transient: bool) -> None:
    error = _sqlite_error(tmp_path, case)
    assert is_transient(error) is transient
    assert is_transient(_wrapped(error, exc.OperationalError)) is transient


def test_postgresql_errors_by_sqlstate_class() -> None:
    assert is_transient(_wrapped(psycopg.errors.LockNotAvailable("lock timeout"), exc.OperationalError))
    assert is_transient(_wrapped(psycopg.errors.QueryCanceled("statement timeout"), exc.OperationalError))
    assert is_transient(_wrapped(psycopg.errors.DeadlockDetected("deadlock"), exc.OperationalError))
    assert is_transient(_wrapped(psycopg.errors.UndefinedTable("no such relation"), exc.ProgrammingError))
    assert is_transient(psycopg.OperationalError("server closed the connection unexpectedly"))
    # psycopg files these under OperationalError; retried, they would be retried forever.
    too_big = psycopg.errors.ProgramLimitExceeded("index row size 5016 exceeds btree maximum 2704")
    assert isinstance(too_big, psycopg.OperationalError)
    assert not is_transient(_wrapped(too_big, exc.OperationalError))
    assert not is_transient(psycopg.errors.NumericValueOutOfRange("integer out of range"))
    assert not is_transient(psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"))


def test_pool_and_dropped_connections_are_transient() -> None:
    assert is_transient(exc.TimeoutError("QueuePool limit reached"))
    assert is_transient(exc.DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True))
    # The drop surfaced as the error of the ROLLBACK TO SAVEPOINT that followed it.
    try:
        try:
            raise _wrapped(psycopg.OperationalError("connection lost"), exc.OperationalError)
        except exc.OperationalError:
            raise exc.ResourceClosedError("This Connection is closed")  # noqa: B904
    except exc.ResourceClosedError as surfaced:
        assert is_transient(surfaced)


def test_what_the_data_causes_is_not_transient() -> None:
    assert not is_transient(OverflowError("Python int too large to convert to SQLite INTEGER"))
    refused = sqlite3.IntegrityError("NOT NULL constraint failed")
    assert not is_transient(_wrapped(refused, exc.IntegrityError))
    assert not is_transient(KeyError("score"))


def test_what_is_recorded_of_a_poison_event_can_be_stored_anywhere() -> None:
    assert storable("id\x00with NUL and a lone \udc80") == "id\\x00with NUL and a lone \\udc80"
    assert storable("x" * 50, 10) == "x" * 9 + "…"
    assert storable(None) is None
