"""Work that runs once at a time per store, whichever process or machine starts it.

Two kinds: `exclusive` refuses a second one at once; `schema_turn` makes it
wait for the first.

A rebuild is such work: it begins by dropping the fresh tables an interrupted
rebuild left behind, so a second one started beside it would drop the first's
tables mid-load. `exclusive` refuses the second at once with `AlreadyRunning`.

The lock dies with its holder, so a killed process never leaves it taken: on
PostgreSQL a session-level advisory lock on a connection of its own (every
process on the database sees it), on the embedded store an flock on a file
in the data directory (every process on the machine sees it).
"""

from __future__ import annotations

import contextlib
import fcntl
import zlib
from collections.abc import Iterator

import psycopg

from infra.pgadmin import schema_lock
from infra.settings import Settings

__all__ = ["AlreadyRunning", "exclusive", "schema_turn"]

# The first half of the two-key advisory locks: a space of Mastery Ledger's
# own, apart from the one-key locks (infra/pgadmin.py's schema lock).
_LOCK_SPACE = 0x6D6C  # "ml"


class AlreadyRunning(RuntimeError):
    """Another process holds the lock of this work on this store."""


@contextlib.contextmanager
def exclusive(settings: Settings, work: str) -> Iterator[None]:
    """Hold the lock named `work` on the store of `settings`, or raise AlreadyRunning."""
    busy = f"another {work} is running on {settings.describe_store()}; wait for it to finish"
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        with open(settings.data_dir / f"{work}.lock", "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise AlreadyRunning(busy) from None
            yield  # the lock goes with the file's closing, or the process's end
        return
    key = zlib.crc32(work.encode()) - 2**31  # a stable int4 for the name
    with psycopg.connect(settings.database_url, autocommit=True, connect_timeout=5) as conn:
        row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_SPACE, key]).fetchone()
        if row is None or not row[0]:
            raise AlreadyRunning(busy)
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_SPACE, key])


@contextlib.contextmanager
def schema_turn(settings: Settings) -> Iterator[None]:
    """Hold the store's schema lock, waiting for it, while opening a store
    creates its tables (see `infra.pgadmin.schema_lock`). On the embedded
    store an flock on `schema.lock` in the data directory: eight processes
    opening a new SQLite file at once failed now and then with "database is
    locked" on the library's `PRAGMA journal_mode=WAL` (switching a new file
    to WAL takes its exclusive lock without waiting on the busy timeout)."""
    if settings.database_url is not None:
        with schema_lock(settings.database_url):
            yield
        return
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.data_dir / "schema.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield  # the lock goes with the file's closing, or the process's end
