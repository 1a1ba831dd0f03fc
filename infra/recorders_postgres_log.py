"""The log's half of the PostgreSQL recorder: the library's application
recorder writing without its pipeline (see `insert_events`), under the log's
lock with bounds (`_writing`), every row with its chain value; the chain
column's upgrade and sealing; and the reads of whole streams and of the log
in stream order. infra/recorders_postgres.py adds the event index."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg.errors import LockNotAvailable, QueryCanceled, UniqueViolation
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Identifier

from infra.chain import ChainedRow, seal
from infra.recorders import (
    LOG_LOCK_WAIT_MS,
    LOG_WRITE_TIMEOUT_MS,
    SEAL_PAGE,
    ChainedLog,
    Head,
    LogBusy,
    StreamKey,
    WholeStreamReads,
    streams_of,
)

Transaction = tuple[psycopg.Connection[DictRow], psycopg.Cursor[DictRow]]


class PostgresLogRecorder(ChainedLog, WholeStreamReads, PostgresApplicationRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        events_table = self.events_table = Identifier(self.datastore.schema, self.events_table_name)
        # Under the lock, each stream's last row with its chain value (one backward index probe each).
        self._select_chain_heads = SQL(
            "SELECT ids.id, h.originator_version, h.chain FROM unnest(%b::uuid[]) AS ids(id) "
            "JOIN LATERAL (SELECT originator_version, chain FROM {} WHERE originator_id = ids.id "
            "ORDER BY originator_version DESC LIMIT 1) h ON true"
        ).format(events_table)
        self._insert_flat = SQL(
            "INSERT INTO {} (originator_id, originator_version, topic, state, chain) "
            "SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[], %b::bytea[]) "
            "RETURNING notification_id"
        ).format(events_table)
        self._seal_stream = SQL(
            "UPDATE {} e SET chain = u.chain FROM unnest(%b::bigint[], %b::bytea[]) AS u(version, chain) "
            "WHERE e.originator_id = %b::uuid AND e.originator_version = u.version"
        ).format(events_table)
        self._unchained_name = f"{self.events_table_name}_unchained"
        self._events_key = f"{self.events_table_name}_pkey"  # PostgreSQL's name for its primary key
        self.lock_wait_ms = LOG_LOCK_WAIT_MS
        self.write_timeout_ms = LOG_WRITE_TIMEOUT_MS
        # The library's lock (EXCLUSIVE, so that ids are issued in commit order) and its NOTIFY.
        self._take_log = SQL("LOCK TABLE {} IN EXCLUSIVE MODE; NOTIFY {};").format(
            events_table, Identifier(self.channel_name)
        )
        self._select_stream = SQL(
            "SELECT originator_version, topic, state FROM {} WHERE originator_id = %s "
            "ORDER BY originator_version"
        ).format(events_table)
        self._select_stream_chained = SQL(
            "SELECT originator_version, topic, state, chain FROM {} WHERE originator_id = %s "
            "ORDER BY originator_version"
        ).format(events_table)

    def is_stream_conflict(self, error: IntegrityError) -> bool:
        """Whether `error` is another writer's event taking a (stream, version)
        this write meant to take (the log's primary key), rather than any other
        constraint."""
        cause = error.__cause__
        return isinstance(cause, UniqueViolation) and cause.diag.constraint_name == self._events_key

    @contextmanager
    def _writing(self) -> Iterator[Transaction]:
        """A transaction holding the log's write lock, taken with the bounds of
        `lock_wait_ms` and `write_timeout_ms` (LOG_LOCK_WAIT_MS and
        LOG_WRITE_TIMEOUT_MS) in one round trip. Everything a write sends is
        encoded before it enters but the chain values, which need the heads
        read in it (hashing, which waits on nothing)."""
        try:
            with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
                curs.execute(
                    SQL(
                        f"SET LOCAL lock_timeout = {int(self.lock_wait_ms)}; "
                        f"SET LOCAL statement_timeout = {int(self.write_timeout_ms)}; "
                    )
                    + self._take_log
                )
                yield conn, curs
        except OperationalError as e:
            if isinstance(e.__cause__, (LockNotAvailable, QueryCanceled)):
                raise LogBusy(str(e.__cause__).strip().splitlines()[0]) from e
            raise

    # Retried on a lost connection, as the library's own insert is.
    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """The library's insert (lock, NOTIFY, rows, RETURNING their ids) without
        its pipeline. The library sends all three in a psycopg pipeline and calls
        `Pipeline.sync()`, which stops sending as soon as its queue of commands
        is empty even when the socket has not yet taken the whole of the last
        one (a large value), and then waits for results the server cannot send:
        it is still reading that statement. The server holds the log's lock
        meanwhile, waiting on the client in a way no server timeout ends, and
        every later write queued behind it (a 16 MiB value did it; 8 MiB
        usually passed). Here each statement is sent whole before its answer is
        awaited, and the rows are sent as flat typed arrays in binary (the
        library's one array of composite values is dumped as text in Python,
        several times slower), the last one their chain values, computed from
        the heads read under the lock (one more round trip)."""
        if not stored_events:
            return []
        params: list[list[Any]] = [
            [e.originator_id for e in stored_events],
            [e.originator_version for e in stored_events],
            [e.topic for e in stored_events],
            [e.state for e in stored_events],
        ]
        with self._writing() as (conn, curs):
            heads = self._chain_heads(conn, streams_of(stored_events))
            curs.execute(self._insert_flat, [*params, self.chain_values(stored_events, heads)], prepare=True)
            return [row["notification_id"] for row in curs.fetchall()]

    def _chain_heads(self, conn: psycopg.Connection[DictRow], streams: list[UUID]) -> dict[UUID, Head]:
        with conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(self._select_chain_heads, [streams], prepare=True)
            return {
                oid: (int(v), None if value is None else bytes(value)) for oid, v, value in curs.fetchall()
            }

    def create_table(self) -> None:
        """The library's tables, then the chain column if the events table
        lacks it (a store written before the chain), its rows marked for
        sealing by a partial index of the rows without a value, which
        `seal_unchained` empties and drops. Asked of the catalog first: ALTER
        TABLE takes the strongest lock even when it has nothing to do."""
        super().create_table()
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "SELECT 1 FROM pg_attribute WHERE attrelid = %s::regclass AND attname = 'chain' "
                "AND NOT attisdropped",
                [f"{self.datastore.schema}.{self.events_table_name}"],
            )
            if curs.fetchone() is None:
                curs.execute(SQL("ALTER TABLE {} ADD COLUMN chain bytea").format(self.events_table))
                curs.execute(
                    SQL(
                        "CREATE INDEX {} ON {} (originator_id, originator_version) WHERE chain IS NULL"
                    ).format(Identifier(self._unchained_name), self.events_table)
                )

    def seal_unchained(self) -> int:
        sealed = 0
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT to_regclass(%s) AS marked", [f"{self.datastore.schema}.{self._unchained_name}"]
            )
            row = curs.fetchone()
            if row is None or row["marked"] is None:
                return 0  # sealed when it was upgraded: a row without a value now is a break
        while True:
            with self._writing() as (conn, curs):
                curs.execute(
                    SQL(
                        "SELECT DISTINCT originator_id FROM (SELECT originator_id FROM {} "
                        "WHERE chain IS NULL ORDER BY originator_id, originator_version LIMIT %s) page"
                    ).format(self.events_table),
                    [SEAL_PAGE],
                )
                streams = [r["originator_id"] for r in curs.fetchall()]
                if not streams:
                    curs.execute(
                        SQL("DROP INDEX {}").format(Identifier(self.datastore.schema, self._unchained_name))
                    )
                    return sealed
                for stream in streams:
                    values = seal(self.key, self._stream_rows(conn, stream))
                    # One statement, sent whole: no pipeline under the lock (see `insert_events`).
                    curs.execute(
                        self._seal_stream,
                        [[version for version, _ in values], [value for _, value in values], stream],
                    )
                    sealed += len(values)

    def _stream_page(self, columns: str, after: StreamKey, before: UUID, upto: int, limit: int) -> list[Any]:
        # Plain tuples: a rebuild and `verify` read the whole log through here.
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(
                SQL(
                    f"SELECT {columns} FROM {{}} "
                    "WHERE (originator_id, originator_version) > (%s, %s) AND originator_id < %s "
                    "AND notification_id <= %s ORDER BY originator_id, originator_version LIMIT %s"
                ).format(self.events_table),
                [after[0], after[1], before, upto, limit],
                prepare=True,
            )
            return curs.fetchall()

    def select_chained(self, after: StreamKey, before: UUID, upto: int, limit: int) -> list[ChainedRow]:
        rows = self._stream_page(
            "originator_id, originator_version, topic, state, chain", after, before, upto, limit
        )
        return [_chained(oid, v, topic, state, value) for oid, v, topic, state, value in rows]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_stream_chained(self, stream: UUID) -> list[ChainedRow]:
        with self.datastore.get_connection() as conn:
            return self._stream_rows(conn, stream)

    def _stream_rows(self, conn: psycopg.Connection[DictRow], stream: UUID) -> list[ChainedRow]:
        with conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(self._select_stream_chained, [stream], prepare=True)
            return [_chained(stream, v, topic, state, value) for v, topic, state, value in curs.fetchall()]

    @contextmanager
    def _snapshot(self) -> Iterator[psycopg.Connection[DictRow]]:
        """A read-only transaction on one snapshot (REPEATABLE READ)."""
        with self.datastore.get_connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield conn

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as the library's select_events
    def _select_stream_events(self, originator_id: UUID | str) -> list[StoredEvent]:
        # Plain tuples: the library builds a dict and a UUID for every row.
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(self._select_stream, [originator_id], prepare=True)
            rows = curs.fetchall()
        if not rows:
            return []
        stream = originator_id if isinstance(originator_id, UUID) else UUID(originator_id)
        return [StoredEvent(stream, v, topic, bytes(state)) for v, topic, state in rows]


def _chained(stream: UUID, version: int, topic: str, state: Any, value: Any) -> ChainedRow:
    return ChainedRow(stream, version, topic, bytes(state), None if value is None else bytes(value))
