"""The embedded store's recorder: the library's SQLite application recorder
with the event index, the chain column and the reads of infra/recorders.py."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Notification, OperationalError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteTransaction

from infra.chain import ChainedRow, seal
from infra.recorders import (
    SEAL_PAGE,
    ChainedLog,
    Head,
    IndexRow,
    StreamKey,
    WholeStreamReads,
    chunks,
    streams_of,
)


class _WriteTransaction(SQLiteTransaction):
    """A transaction that takes SQLite's write lock as it begins (BEGIN
    IMMEDIATE, waiting up to the busy timeout), so that the heads it reads
    are the last ones: a deferred transaction that read first and wrote
    second would fail at once if another writer had committed between."""

    def __enter__(self) -> SQLiteCursor:
        cursor = self.connection.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:  # as the library's transactions map it
            raise OperationalError(e) from e
        return cursor


class IndexedSQLiteRecorder(ChainedLog, WholeStreamReads, SQLiteApplicationRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        table = self.events_table_name
        self.insert_events_statement = (
            f"INSERT INTO {table} (originator_id, originator_version, topic, state, chain) VALUES (?,?,?,?,?)"
        )
        self._unchained_index = f"{table}_unchained"

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

    def _create_table(self, c: SQLiteCursor) -> None:
        """The library's tables, then the chain column if the events table
        lacks it: a store written before the chain. Its rows are marked for
        sealing by a partial index of the rows without a value, which
        `seal_unchained` empties and drops (see infra/eventstore.py)."""
        super()._create_table(c)
        table = self.events_table_name
        c.execute(f"PRAGMA table_info({table})")
        if "chain" not in {row[1] for row in c.fetchall()}:
            c.execute(f"ALTER TABLE {table} ADD COLUMN chain BLOB")
            c.execute(
                f"CREATE INDEX {self._unchained_index} ON {table} (originator_id, originator_version) "
                "WHERE chain IS NULL"
            )

    @contextmanager
    def _writing(self) -> Iterator[SQLiteCursor]:
        with self.datastore.get_connection(commit=True) as conn, _WriteTransaction(conn, commit=True) as c:
            yield c

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        with self._writing() as c:
            return self._insert_events(c, stored_events, **kwargs)

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **_: Any
    ) -> Sequence[int]:
        """The library's insert, each row with its chain value, chained from the
        heads read here (the caller holds the write lock: `_writing`)."""
        values = self.chain_values(stored_events, self._heads(c, streams_of(stored_events)))
        ids = []
        for e, value in zip(stored_events, values, strict=True):
            assert isinstance(e.originator_id, UUID)
            c.execute(
                self.insert_events_statement,
                (e.originator_id.hex, e.originator_version, e.topic, e.state, value),
            )
            ids.append(c.lastrowid)
        return ids

    def select_heads(self, stream_ids: Sequence[UUID]) -> dict[UUID, int]:
        with self.datastore.transaction(commit=False) as c:
            return {stream: version for stream, (version, _) in self._heads(c, stream_ids).items()}

    def _heads(self, c: SQLiteCursor, stream_ids: Sequence[UUID]) -> dict[UUID, Head]:
        heads: dict[UUID, Head] = {}
        table = self.events_table_name
        for chunk in chunks(stream_ids):
            # One index probe per stream: MAX with an equality on the key's
            # prefix reads one entry, where GROUP BY would read every event.
            values = ",".join(["(?)"] * len(chunk))
            c.execute(
                f"WITH ids(id) AS (VALUES {values}) SELECT e.originator_id, e.originator_version, e.chain "
                f"FROM ids JOIN {table} e ON e.originator_id = ids.id AND e.originator_version = "
                f"(SELECT MAX(originator_version) FROM {table} WHERE originator_id = ids.id)",
                [s.hex for s in chunk],
            )
            for oid, version, value in c.fetchall():
                heads[UUID(oid)] = (int(version), value)
        return heads

    def select_index(self, event_ids: Sequence[str]) -> dict[str, IndexRow]:
        found: dict[str, IndexRow] = {}
        with self.datastore.transaction(commit=False) as c:
            for chunk in chunks(event_ids):
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

    def select_chained(self, after: StreamKey, before: UUID, upto: int, limit: int) -> list[ChainedRow]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT originator_id, originator_version, topic, state, chain "
                f"FROM {self.events_table_name} WHERE (originator_id, originator_version) > (?, ?) "
                "AND originator_id < ? AND rowid <= ? ORDER BY originator_id, originator_version LIMIT ?",
                [after[0].hex, after[1], before.hex, upto, limit],
            )
            rows = c.fetchall()
        out: list[ChainedRow] = []
        stream, hex_id = None, None
        for oid, version, topic, state, value in rows:
            if oid != hex_id:  # one UUID per stream, not per row
                stream, hex_id = UUID(oid), oid
            assert stream is not None
            out.append(ChainedRow(stream, version, topic, state, value))
        return out

    def select_stream_chained(self, stream: UUID) -> list[ChainedRow]:
        with self.datastore.transaction(commit=False) as c:
            return self._stream_rows(c, stream)

    def _stream_rows(self, c: SQLiteCursor, stream: UUID) -> list[ChainedRow]:
        c.execute(
            f"SELECT originator_version, topic, state, chain FROM {self.events_table_name} "
            "WHERE originator_id = ? ORDER BY originator_version",
            [stream.hex],
        )
        return [ChainedRow(stream, v, topic, state, value) for v, topic, state, value in c.fetchall()]

    def index_snapshot(self, student_id: str | None = None) -> tuple[int, dict[str, int]]:
        # One read transaction: in WAL mode it reads one snapshot throughout.
        with self.datastore.transaction(commit=False) as c:
            upto = self._max_notification_id(c) or 0
            if student_id is None:
                c.execute("SELECT student_id, COUNT(*) FROM event_index GROUP BY student_id")
            else:
                c.execute("SELECT student_id, COUNT(*) FROM event_index WHERE student_id = ?", [student_id])
            return upto, {sid: int(n) for sid, n in c.fetchall() if sid is not None}

    def student_snapshot(self, stream: UUID, student_id: str) -> tuple[list[ChainedRow], list[str]]:
        with self.datastore.transaction(commit=False) as c:
            rows = self._stream_rows(c, stream)
            c.execute("SELECT event_id FROM event_index WHERE student_id = ?", [student_id])
            return rows, [r[0] for r in c.fetchall()]

    def seal_unchained(self) -> int:
        sealed = 0
        table = self.events_table_name
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", [self._unchained_index]
            )
            if c.fetchone() is None:
                return 0  # sealed when it was upgraded: a row without a value now is a break
        while True:
            with self._writing() as c:
                c.execute(
                    f"SELECT DISTINCT originator_id FROM (SELECT originator_id FROM {table} "
                    "WHERE chain IS NULL ORDER BY originator_id, originator_version LIMIT ?)",
                    [SEAL_PAGE],
                )
                streams = [UUID(row[0]) for row in c.fetchall()]
                if not streams:
                    c.execute(f"DROP INDEX {self._unchained_index}")
                    return sealed
                for stream in streams:
                    values = seal(self.key, self._stream_rows(c, stream))
                    c.executemany(
                        f"UPDATE {table} SET chain = ? WHERE originator_id = ? AND originator_version = ?",
                        [(value, stream.hex, version) for version, value in values],
                    )
                    sealed += len(values)

    def select_for_batch(
        self, stream_ids: Sequence[UUID], event_ids: Sequence[str]
    ) -> tuple[dict[UUID, int], dict[str, IndexRow]]:
        """What a batch of learning events is checked against: stream heads and index rows."""
        return self.select_heads(stream_ids), self.select_index(event_ids)

    def append_batch(self, stored_events: Sequence[StoredEvent], index_rows: Sequence[IndexRow]) -> int:
        """Store learning events and their index rows in one transaction; the log
        position after them. Versions and chain values are those of the heads
        read inside it, under the write lock (see `at_heads`); the values are
        hashed before it, from the heads as they were, and hashed again under
        it only if those heads have moved since: the lock is not held to hash."""
        streams = streams_of(stored_events)
        with self.datastore.transaction(commit=False) as c:
            before = self._heads(c, streams)
        guess = self.chained(stored_events, before)
        with self._writing() as c:
            c.executemany("INSERT INTO event_index VALUES (?,?,?,?,?)", index_rows)
            heads = self._heads(c, streams)
            events, values = guess if heads == before else self.chained(stored_events, heads)
            c.executemany(
                self.insert_events_statement,
                [
                    (e.originator_id.hex, e.originator_version, e.topic, e.state, value)  # type: ignore[union-attr]
                    for e, value in zip(events, values, strict=True)
                ],
            )
            # The rowid of the last row inserted: the largest, as rowids are max + 1.
            c.execute("SELECT last_insert_rowid()")
            return int(c.fetchone()[0])

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
