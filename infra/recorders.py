"""The recorders of the event store: the `eventsourcing` library's own for
SQLite and PostgreSQL, extended with one table, `event_index`, written in the
same transaction as the events it indexes. It makes `event_id` idempotency and
reference checks a single indexed lookup, and its primary key is the guard
against two requests storing the same event id at once.

For batches of learning events the recorders add `select_for_batch` (stream
heads and index rows in one round trip) and `append_batch` (events and index
rows in one transaction; on PostgreSQL by binary COPY under the library's
table lock). For a rebuild they add `select_by_stream`, the log read in
(stream, version) order.
"""

from __future__ import annotations

import itertools
import sqlite3
from abc import abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple
from uuid import UUID

import psycopg
from eventsourcing.persistence import (
    AggregateRecorder,
    IntegrityError,
    InterfaceError,
    Notification,
    OperationalError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from eventsourcing.utils import retry
from psycopg.errors import LockNotAvailable, QueryCanceled, UniqueViolation
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Identifier

_CHUNK = 900  # stays under SQLite's bound-parameter limit on old builds
StreamKey = tuple[UUID, int]  # (stream id, version): the log's primary key
StreamRange = tuple[UUID, UUID]  # stream ids from (inclusive), to (exclusive)
FIRST_STREAM = UUID(int=0)
# Past every stream id: ids are UUIDv5 (domain/ids.py), whose version bits are never all ones.
END_OF_STREAMS = UUID(int=2**128 - 1)


# On PostgreSQL, how long a writer waits for the log's lock, and how long a
# statement of a transaction holding it may run on the server (milliseconds).
# Writes hold the lock for milliseconds, a 16 MiB batch for under a second;
# past these bounds the writer answers "busy" and stores nothing, instead of
# every later write queueing behind a stuck one. (Neither bound ends a client
# that stalls while sending a statement: the server waits for it as long as
# the connection lives. Hence everything is encoded before the lock is taken
# and nothing is sent through a pipeline: see `insert_events`.)
LOG_LOCK_WAIT_MS = 10_000
LOG_WRITE_TIMEOUT_MS = 30_000


class LogBusy(Exception):
    """The log's write lock could not be had, or a write holding it did not
    finish, within the bounds above: the write stored nothing; try again."""


def stream_ranges(parts: int) -> list[StreamRange]:
    """The stream-id space cut in `parts` equal ranges (UUIDv5 ids spread evenly)."""
    bounds = [UUID(int=(2**128 - 1) * i // parts) for i in range(parts)] + [END_OF_STREAMS]
    return list(itertools.pairwise(bounds))


class IndexRow(NamedTuple):
    """One row of `event_index`, in its column order."""

    event_id: str
    student_id: str
    record_type: str
    objective_id: str | None
    body_hash: str


def at_heads(stored_events: Sequence[StoredEvent], heads: dict[UUID, int]) -> list[StoredEvent]:
    """The events numbered on from their streams' heads, in batch order.

    A batch is checked against the heads it read, but its versions are taken
    here, inside the appending transaction that holds the log's write lock:
    a writer that appended to the same students since the check has committed
    by then, so concurrent batches for one class queue instead of colliding
    on (stream, version) and retrying until they give up. Only the order of a
    stream's versions means anything, and the batch keeps it.
    """
    following: dict[UUID, int] = {}
    out = []
    for e in stored_events:
        stream = e.originator_id
        assert isinstance(stream, UUID)
        v = following[stream] = following.get(stream, heads.get(stream, 0)) + 1
        out.append(e if v == e.originator_version else StoredEvent(stream, v, e.topic, e.state))
    return out


def _streams(stored_events: Sequence[StoredEvent]) -> list[UUID]:
    return list(dict.fromkeys(e.originator_id for e in stored_events if isinstance(e.originator_id, UUID)))


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


class WholeStreamReads(AggregateRecorder):
    """A whole stream read with the columns it needs and one stream UUID for
    all its rows (an audit replay reads 5,000 events through here); any
    other selection goes to the library's own query. Put before the
    library's recorder in the bases."""

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        if gt is not None or lte is not None or desc or limit is not None:
            # The library's concrete recorder, which follows this class in both recorders' bases.
            return super().select_events(  # type: ignore[safe-super]
                originator_id, gt=gt, lte=lte, desc=desc, limit=limit
            )
        return self._select_stream_events(originator_id)

    @abstractmethod
    def _select_stream_events(self, originator_id: UUID | str) -> list[StoredEvent]: ...


class IndexedSQLiteRecorder(WholeStreamReads, SQLiteApplicationRecorder):
    def is_stream_conflict(self, error: IntegrityError) -> bool:
        """Whether `error` is another writer's event taking a (stream, version)
        this write meant to take (the log's primary key), rather than any other
        constraint."""
        cause = error.__cause__
        table = self.events_table_name
        return isinstance(cause, sqlite3.IntegrityError) and str(cause).endswith(
            f"{table}.originator_id, {table}.originator_version"
        )

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS event_index ("
            "event_id TEXT PRIMARY KEY, student_id TEXT NOT NULL, record_type TEXT NOT NULL, "
            "objective_id TEXT, body_hash TEXT NOT NULL) WITHOUT ROWID",
        ]

    def select_heads(self, stream_ids: Sequence[UUID]) -> dict[UUID, int]:
        with self.datastore.transaction(commit=False) as c:
            return self._heads(c, stream_ids)

    def _heads(self, c: SQLiteCursor, stream_ids: Sequence[UUID]) -> dict[UUID, int]:
        heads: dict[UUID, int] = {}
        for chunk in _chunks(stream_ids):
            # One index probe per stream: MAX with an equality on the key's
            # prefix reads one entry, where GROUP BY would read every event.
            values = ",".join(["(?)"] * len(chunk))
            c.execute(
                f"WITH ids(id) AS (VALUES {values}) SELECT id, (SELECT MAX(originator_version) "
                f"FROM {self.events_table_name} WHERE originator_id = id) FROM ids",
                [s.hex for s in chunk],
            )
            for oid, version in c.fetchall():
                if version is not None:
                    heads[UUID(oid)] = int(version)
        return heads

    def select_index(self, event_ids: Sequence[str]) -> dict[str, IndexRow]:
        found: dict[str, IndexRow] = {}
        with self.datastore.transaction(commit=False) as c:
            for chunk in _chunks(event_ids):
                marks = ",".join("?" * len(chunk))
                c.execute(f"SELECT * FROM event_index WHERE event_id IN ({marks})", list(chunk))
                for row in c.fetchall():
                    found[row[0]] = IndexRow(*row)
        return found

    def count_index(self) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT COUNT(*) FROM event_index")
            return int(c.fetchone()[0])

    def select_by_stream(self, after: StreamKey, before: UUID, upto: int, limit: int) -> list[Notification]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT rowid, originator_id, originator_version, topic, state "
                f"FROM {self.events_table_name} WHERE (originator_id, originator_version) > (?, ?) "
                "AND originator_id < ? AND rowid <= ? ORDER BY originator_id, originator_version LIMIT ?",
                [after[0].hex, after[1], before.hex, upto, limit],
            )
            return [
                Notification(
                    id=row[0],
                    originator_id=self.convert_originator_id(row[1]),
                    originator_version=row[2],
                    topic=row[3],
                    state=row[4],
                )
                for row in c.fetchall()
            ]

    def select_for_batch(
        self, stream_ids: Sequence[UUID], event_ids: Sequence[str]
    ) -> tuple[dict[UUID, int], dict[str, IndexRow]]:
        """What a batch of learning events is checked against: stream heads and index rows."""
        return self.select_heads(stream_ids), self.select_index(event_ids)

    def append_batch(self, stored_events: Sequence[StoredEvent], index_rows: Sequence[IndexRow]) -> int:
        """Store learning events and their index rows in one transaction; the log
        position after them. Versions are taken from the heads inside it (see
        `at_heads`): the index rows go first, which takes SQLite's write lock."""
        with self.datastore.transaction(commit=True) as c:
            c.executemany("INSERT INTO event_index VALUES (?,?,?,?,?)", index_rows)
            heads = self._heads(c, _streams(stored_events))
            ids = self._insert_events(c, at_heads(stored_events, heads))
        assert ids
        return max(ids)

    def _select_stream_events(self, originator_id: UUID | str) -> list[StoredEvent]:
        # Every column the library reads, and its stream id parsed again for
        # each row, cost more than the replay's use of them: see WholeStreamReads.
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT originator_version, topic, state FROM {self.events_table_name} "
                "WHERE originator_id = ? ORDER BY originator_version",
                [originator_id.hex if isinstance(originator_id, UUID) else originator_id],
            )
            rows = c.fetchall()
        if not rows:
            return []
        stream = (
            originator_id if isinstance(originator_id, UUID) else self.convert_originator_id(originator_id)
        )
        return [StoredEvent(stream, v, topic, state) for v, topic, state in rows]


class IndexedPostgresRecorder(WholeStreamReads, PostgresApplicationRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.index_table = Identifier(self.datastore.schema, "event_index")
        events_table = Identifier(self.datastore.schema, self.events_table_name)
        # One backward index probe per stream (LIMIT 1); MAX ... GROUP BY read
        # every event of every student in the batch (330 ms a batch at 850k events).
        self._select_heads = SQL(
            "SELECT ids.id, (SELECT originator_version FROM {} "
            "WHERE originator_id = ids.id ORDER BY originator_version DESC LIMIT 1) "
            "FROM unnest(%b::uuid[]) AS ids(id)"
        ).format(events_table)
        self._select_index = SQL(
            "SELECT event_id, student_id, record_type, objective_id, body_hash FROM {} "
            "WHERE event_id = ANY(%b::text[])"
        ).format(self.index_table)
        self._copy_index = SQL("COPY {} FROM STDIN (FORMAT BINARY)").format(self.index_table)
        self._copy_events = SQL(
            "COPY {} (originator_id, originator_version, topic, state) FROM STDIN (FORMAT BINARY)"
        ).format(events_table)
        self._insert_flat = SQL(
            "INSERT INTO {} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[]) "
            "RETURNING notification_id"
        ).format(Identifier(self.datastore.schema, self.events_table_name))
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
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (event_id text PRIMARY KEY, student_id text NOT NULL, "
                "record_type text NOT NULL, objective_id text, body_hash text NOT NULL)"
            ).format(self.index_table)
        )

    def is_stream_conflict(self, error: IntegrityError) -> bool:
        """Whether `error` is another writer's event taking a (stream, version)
        this write meant to take (the log's primary key), rather than any other
        constraint."""
        cause = error.__cause__
        return isinstance(cause, UniqueViolation) and cause.diag.constraint_name == self._events_key

    @contextmanager
    def _writing(self) -> Iterator[_Transaction]:
        """A transaction holding the log's write lock, taken with the bounds of
        `lock_wait_ms` and `write_timeout_ms` (LOG_LOCK_WAIT_MS and
        LOG_WRITE_TIMEOUT_MS) in one round trip. Everything a write sends is
        encoded before it enters."""
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
        awaited, and the rows are sent as four flat typed arrays in binary (the
        library's one array of composite values is dumped as text in Python,
        several times slower)."""
        if not stored_events:
            return []
        params = [
            [e.originator_id for e in stored_events],
            [e.originator_version for e in stored_events],
            [e.topic for e in stored_events],
            [e.state for e in stored_events],
        ]
        with self._writing() as (_, curs):
            curs.execute(self._insert_flat, params, prepare=True)
            return [row["notification_id"] for row in curs.fetchall()]

    def select_heads(self, stream_ids: Sequence[UUID]) -> dict[UUID, int]:
        heads: dict[UUID, int] = self.select_for_batch(stream_ids, ())[0]
        return heads

    def select_index(self, event_ids: Sequence[str]) -> dict[str, IndexRow]:
        index: dict[str, IndexRow] = self.select_for_batch((), event_ids)[1]
        return index

    # Retried on a lost connection, as the library's own reads and inserts are.
    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_for_batch(
        self, stream_ids: Sequence[UUID], event_ids: Sequence[str]
    ) -> tuple[dict[UUID, int], dict[str, IndexRow]]:
        """What a batch of learning events is checked against: stream heads and
        index rows, in one round trip (the two queries are pipelined)."""
        if not stream_ids and not event_ids:
            return {}, {}
        with (
            self.datastore.get_connection() as conn,
            conn.cursor(row_factory=tuple_row) as heads,
            conn.cursor(row_factory=tuple_row) as index,
        ):
            with conn.pipeline():
                if stream_ids:
                    heads.execute(self._select_heads, [list(stream_ids)], prepare=True)
                if event_ids:
                    index.execute(self._select_index, [list(event_ids)], prepare=True)
            return (
                {oid: int(v) for oid, v in heads.fetchall() if v is not None} if stream_ids else {},
                {row[0]: IndexRow(*row) for row in index.fetchall()} if event_ids else {},
            )

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def append_batch(self, stored_events: Sequence[StoredEvent], index_rows: Sequence[IndexRow]) -> int:
        """Store learning events and their index rows in one transaction; the log position after them.

        The library's insert path (table lock, NOTIFY, then the rows), with the
        rows sent by binary COPY: psycopg formats COPY rows in C, where the
        arrays of the INSERT ... unnest path are dumped element by element in
        Python. The index rows go in under the lock too: two batches sharing
        event ids in different orders would otherwise deadlock on them. COPY
        cannot return ids, so the position is read after it, under the lock:
        no other transaction can hold uncommitted rows of the log while this
        one holds EXCLUSIVE, so the largest id is this batch's.
        """
        with self._writing() as (conn, curs):
            with curs.copy(self._copy_index) as copy:
                copy.set_types(_INDEX_TYPES)
                for index_row in index_rows:
                    copy.write_row(index_row)
            with conn.cursor(row_factory=tuple_row) as heads:
                heads.execute(self._select_heads, [_streams(stored_events)], prepare=True)
                at = {oid: int(v) for oid, v in heads.fetchall() if v is not None}
            with curs.copy(self._copy_events) as copy:
                copy.set_types(_EVENT_TYPES)
                for e in at_heads(stored_events, at):
                    copy.write_row((e.originator_id, e.originator_version, e.topic, e.state))
            curs.execute(self.max_notification_id_statement, prepare=True)
            head = curs.fetchone()
            assert head is not None
            return int(head["max"])

    def count_index(self) -> int:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(SQL("SELECT COUNT(*) AS n FROM {}").format(self.index_table))
            row = curs.fetchone()
            assert row is not None
            return int(row["n"])

    def select_by_stream(self, after: StreamKey, before: UUID, upto: int, limit: int) -> list[Notification]:
        # Plain tuples: a rebuild reads the whole log through here.
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(
                SQL(
                    "SELECT notification_id, originator_id, originator_version, topic, state FROM {} "
                    "WHERE (originator_id, originator_version) > (%s, %s) AND originator_id < %s "
                    "AND notification_id <= %s ORDER BY originator_id, originator_version LIMIT %s"
                ).format(Identifier(self.datastore.schema, self.events_table_name)),
                [after[0], after[1], before, upto, limit],
                prepare=True,
            )
            return [
                Notification(id=nid, originator_id=oid, originator_version=v, topic=topic, state=bytes(state))
                for nid, oid, v, topic, state in curs.fetchall()
            ]

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


_Transaction = tuple[psycopg.Connection[DictRow], psycopg.Cursor[DictRow]]
_INDEX_TYPES = ["text", "text", "text", "text", "text"]
_EVENT_TYPES = ["uuid", "int8", "text", "bytea"]

IndexedRecorder = IndexedSQLiteRecorder | IndexedPostgresRecorder
