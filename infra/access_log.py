"""The access log's writer: every read of a student's records, appended to the
trust store's `access_log` table (infra/trust.py) in batches, off the
request's path (docs/security.md, "Access records").

A request only appends its entries to an in-memory queue (`record`, about a
microsecond). A thread of the recorder's own writes what is queued as one
multi-row INSERT when `BATCH_ROWS` entries are waiting, else every
`INTERVAL` seconds, and at once when someone asks for it (`flush`: the
access-log endpoint, tests, `close` at shutdown). A write that fails is kept
at the head of the queue and tried again, with a growing pause, and each
failure is logged with the size of the backlog: nothing is dropped while the
process lives. A process that dies loses what it had not written yet: at most
the last `INTERVAL` seconds of reads (or `BATCH_ROWS` entries), plus a
backlog the store was refusing. That is the price of keeping a write, and
its wait for the store's write lock and fsync, out of every read.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterable
from datetime import datetime
from itertools import islice
from typing import NamedTuple

from sqlalchemy import Dialect, Engine

from infra.trust import access_log

log = logging.getLogger(__name__)

BATCH_ROWS = 1_000  # entries per INSERT: 7,000 parameters, under SQLite's and PostgreSQL's limits
INTERVAL = 0.5  # seconds an entry may wait for others to share its INSERT
RETRY_FIRST, RETRY_MOST = 0.5, 10.0  # pauses after a failed write, doubling
CLOSE_WAIT = 10.0  # seconds `close` waits for the last writes


class Access(NamedTuple):
    """One read of one student's records: an `access_log` row without its id."""

    at: datetime
    token_id: str
    token_name: str
    role: str
    student_id: str
    endpoint: str  # the route template, e.g. "GET /v1/students/{student_id}/mastery"
    status: int  # the HTTP status of the answer


class AccessRecorder:
    def __init__(self, engine: Engine, interval: float = INTERVAL, batch_rows: int = BATCH_ROWS) -> None:
        self.engine = engine
        self.interval = interval
        self.batch_rows = batch_rows
        self._cond = threading.Condition()
        self._queue: deque[Access] = deque()
        self._queued = 0  # entries ever queued
        self._written = 0  # entries ever written: the queue holds the difference
        self._wanted = 0  # write everything up to this count now (flush)
        self._closed = False
        self._thread: threading.Thread | None = None
        self.failed_writes = 0  # INSERTs the store refused, each retried (/metrics)

    @property
    def backlog(self) -> int:
        """Entries queued and not written yet (/metrics)."""
        with self._cond:
            return len(self._queue)

    def record(self, entries: Iterable[Access]) -> None:
        """Queue entries for the writer; never waits for the store."""
        batch = list(entries)
        if not batch:
            return
        with self._cond:
            if self._closed:
                late = True
            else:
                late = False
                was_empty = not self._queue
                self._queue.extend(batch)
                self._queued += len(batch)
                if self._thread is None:
                    # Started on first use, so that a CLI command that reads no
                    # student's records runs no thread.
                    self._thread = threading.Thread(target=self._run, name="access-log", daemon=True)
                    self._thread.start()
                if was_empty or len(self._queue) >= self.batch_rows:
                    self._cond.notify_all()
        if late:
            # A read that ended after shutdown began (a streamed export): written here, at once.
            self._write_late(batch)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every entry queued before the call is in the store;
        False if that took longer than `timeout` (the store refuses writes)."""
        with self._cond:
            target = self._wanted = max(self._wanted, self._queued)
            self._cond.notify_all()
            return self._cond.wait_for(lambda: self._written >= target, timeout)

    def close(self, timeout: float = CLOSE_WAIT) -> None:
        """Write what is queued, then stop the writer. What the store would
        not take within `timeout` is lost, and the log says how much."""
        self.flush(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
        with self._cond:
            lost = len(self._queue)
        if lost:
            log.error("%d access-log entries could not be written before shutdown and are lost", lost)

    def _run(self) -> None:
        pause = RETRY_FIRST
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._queue) or self._closed)
                if not self._queue:
                    return  # closed, everything written
                # Let others join the INSERT for up to `interval`, unless it is full or wanted now.
                self._cond.wait_for(self._due, self.interval)
                batch = list(islice(self._queue, self.batch_rows))
            try:
                self._insert(batch)
            except Exception as e:  # any failure: keep the entries, retry, say so
                with self._cond:
                    backlog, closed = len(self._queue), self._closed
                    self.failed_writes += 1
                log.warning(
                    "could not write %d access-log entries (%d waiting); retrying in %.1f s: %s",
                    len(batch),
                    backlog,
                    pause,
                    str(e).splitlines()[0] if str(e) else type(e).__name__,
                )
                if closed:
                    return  # close() reports what is lost
                with self._cond:
                    self._cond.wait_for(lambda: self._closed, pause)
                pause = min(pause * 2, RETRY_MOST)
                continue
            pause = RETRY_FIRST
            with self._cond:
                for _ in batch:
                    self._queue.popleft()
                self._written += len(batch)
                self._cond.notify_all()

    def _due(self) -> bool:
        return len(self._queue) >= self.batch_rows or self._wanted > self._written or self._closed

    def _insert(self, batch: list[Access]) -> None:
        """One statement, INSERT ... VALUES (...), (...), ..., in one transaction.

        Written out here rather than as `insert(access_log).values(rows)`:
        SQLAlchemy compiles that anew for every batch, 130-200 ms for 1,000
        rows (measured), where this takes 8 ms on SQLite and 30-45 ms on
        PostgreSQL, about what an executemany takes. Values go through the
        columns' own bind processing (SQLite stores times as text)."""
        with self.engine.begin() as conn:
            dialect = conn.dialect
            at = access_log.c.at.type.bind_processor(dialect)
            params: list[object] = []
            for entry in batch:
                params.append(at(entry.at) if at is not None else entry.at)
                params.extend(entry[1:])
            conn.exec_driver_sql(_statement(dialect, len(batch)), tuple(params))

    def _write_late(self, batch: list[Access]) -> None:
        try:
            self._insert(batch)
        except Exception:
            log.exception("%d access-log entries recorded after shutdown could not be written", len(batch))


_COLUMNS = Access._fields  # every column of access_log but its id


def _statement(dialect: Dialect, rows: int) -> str:
    quote = dialect.identifier_preparer.quote
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    row = f"({', '.join([mark] * len(_COLUMNS))})"
    columns = ", ".join(quote(c) for c in _COLUMNS)
    return f"INSERT INTO {quote(access_log.name)} ({columns}) VALUES {', '.join([row] * rows)}"
