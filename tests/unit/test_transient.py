"""Which errors the projections retry as passing trouble, and which set an event aside."""

from __future__ import annotations

import sqlite3

import psycopg
from sqlalchemy import exc

from infra.transient import is_transient
from services.projections.parked import storable


def _wrapped(orig: Exception, kind: type[exc.DBAPIError]) -> exc.DBAPIError:
    return kind("INSERT …", {}, orig)


def test_database_trouble_is_transient() -> None:
    assert is_transient(_wrapped(sqlite3.OperationalError("database is locked"), exc.OperationalError))
    assert is_transient(_wrapped(psycopg.errors.LockNotAvailable("lock timeout"), exc.OperationalError))
    assert is_transient(psycopg.OperationalError("server closed the connection unexpectedly"))
    assert is_transient(exc.TimeoutError("QueuePool limit reached"))


def test_a_dropped_connection_is_transient_whatever_the_error_that_surfaces() -> None:
    invalidated = exc.DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True)
    assert is_transient(invalidated)
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
    assert not is_transient(_wrapped(psycopg.errors.NumericValueOutOfRange("out of range"), exc.DataError))
    refused = sqlite3.IntegrityError("NOT NULL constraint failed")
    assert not is_transient(_wrapped(refused, exc.IntegrityError))
    assert not is_transient(KeyError("score"))


def test_what_is_recorded_of_a_poison_event_can_be_stored_anywhere() -> None:
    assert storable("id\x00with NUL and a lone \udc80") == "id\\x00with NUL and a lone \\udc80"
    assert storable("x" * 50, 10) == "x" * 9 + "…"
    assert storable(None) is None
