"""Which errors are the database's passing trouble rather than the data's.

A dropped connection, a lock or statement timeout, a deadlock or a
serialisation failure, SQLite's "database is locked": the same work will
succeed when tried again, so the caller retries. Anything else (a value a
column cannot hold, a constraint, a bug in the code applying an event) fails
the same way every time.
"""

from __future__ import annotations

import sqlite3

import psycopg
from eventsourcing import persistence
from sqlalchemy import exc

_TRANSIENT: tuple[type[BaseException], ...] = (
    exc.OperationalError,  # psycopg's and sqlite3's OperationalError, wrapped by SQLAlchemy
    exc.InterfaceError,
    exc.DisconnectionError,
    exc.TimeoutError,  # no connection free in the pool
    persistence.OperationalError,  # the event store, read while applying (the catalog)
    persistence.InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    sqlite3.OperationalError,
    ConnectionError,
)


def is_transient(error: BaseException) -> bool:
    """Whether `error`, or an error it was raised from or while handling, is transient.

    The chain matters: when the connection drops inside a savepoint, the
    error that surfaces may be the failed ROLLBACK TO SAVEPOINT's.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _TRANSIENT):
            return True
        if isinstance(current, exc.DBAPIError) and current.connection_invalidated:
            return True
        current = current.__cause__ or current.__context__
    return False
