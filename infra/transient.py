"""Which errors are the database's trouble rather than the data's.

A dropped connection, a lock or statement timeout, a deadlock or a
serialisation failure, a full disk, SQLite's busy database: the same work
succeeds when tried again. A missing table or a revoked privilege is no
event's doing either, and every event would fail alike: retried too, not
blamed on the events. Anything else (a value a column cannot hold, a
constraint, an index entry beyond the page size, a bug in the code applying
an event) fails the same way every time and sets the event aside.

The driver's own error decides where there is one (PostgreSQL's SQLSTATE
class, SQLite's result code): psycopg files "program limit exceeded" (an
index row too large for one event's 10 kB id) under OperationalError, which
retried forever is the poison this module exists to avoid.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import psycopg
from eventsourcing import persistence
from sqlalchemy import exc

# SQLSTATE classes: 08 connection, 25 transaction state (a transaction already
# aborted), 40 rollback (serialisation, deadlock), 42 syntax or access (a
# missing table, a privilege), 53 resources, 55 object state (lock not
# available), 57 operator intervention (statement timeout, shutdown),
# 58 system (I/O), F0 configuration, XX internal.
_PG_TRANSIENT = frozenset({"08", "25", "40", "42", "53", "55", "57", "58", "F0", "XX"})

# SQLite primary result codes: ERROR (no such table), BUSY, LOCKED, NOMEM,
# READONLY, INTERRUPT, IOERR, CORRUPT, FULL, CANTOPEN, PROTOCOL, SCHEMA, AUTH,
# NOTADB. Not TOOBIG, CONSTRAINT, MISMATCH, RANGE: those are the data's.
_SQLITE_TRANSIENT = frozenset({1, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 17, 23, 26})

# Without a driver error to decide: wrappers and errors of the pool and the network.
_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    exc.OperationalError,
    exc.InterfaceError,
    exc.DisconnectionError,
    exc.TimeoutError,  # no connection free in the pool
    persistence.OperationalError,  # the event store, read while applying (the catalog)
    persistence.InterfaceError,
    ConnectionError,
)


def is_transient(error: BaseException) -> bool:
    """Whether `error` is the database's trouble (retry the work) rather
    than the data's (set the event aside).

    The whole chain counts: SQLAlchemy and the event store wrap the driver's
    error, and when the connection drops inside a savepoint the error that
    surfaces may be the failed ROLLBACK TO SAVEPOINT's.
    """
    chain = list(_chain(error))
    if any(isinstance(e, exc.DBAPIError) and e.connection_invalidated for e in chain):
        return True
    for e in chain:
        if isinstance(e, psycopg.Error):
            if e.sqlstate:
                return e.sqlstate[:2] in _PG_TRANSIENT
            return isinstance(e, (psycopg.OperationalError, psycopg.InterfaceError))
        if isinstance(e, sqlite3.Error):
            code = getattr(e, "sqlite_errorcode", None)
            if code is not None:
                return code & 0xFF in _SQLITE_TRANSIENT
            return isinstance(e, sqlite3.OperationalError)
    return any(isinstance(e, _TRANSIENT_TYPES) for e in chain)


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        if isinstance(orig, BaseException) and id(orig) not in seen and orig is not current.__cause__:
            seen.add(id(orig))
            yield orig
        current = current.__cause__ or current.__context__
