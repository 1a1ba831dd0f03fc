"""The PostgreSQL recorder: the log's recorder (infra/recorders_postgres_log.py)
with the event index, written in the same transaction as the events it
indexes, and the batch path of learning events (binary COPY under the lock)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, Notification, OperationalError, StoredEvent
from eventsourcing.utils import retry
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from infra.chain import ChainedRow
from infra.recorders import IndexRow, StreamKey, streams_of
from infra.recorders_postgres_log import PostgresLogRecorder


class IndexedPostgresRecorder(PostgresLogRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.index_table = Identifier(self.datastore.schema, "event_index")
        # One backward index probe per stream (LIMIT 1); MAX ... GROUP BY read
        # every event of every student in the batch (330 ms a batch at 850k events).
        self._select_heads = SQL(
            "SELECT ids.id, (SELECT originator_version FROM {} "
            "WHERE originator_id = ids.id ORDER BY originator_version DESC LIMIT 1) "
            "FROM unnest(%b::uuid[]) AS ids(id)"
        ).format(self.events_table)
        self._select_index = SQL(
            "SELECT event_id, student_id, record_type, objective_id, body_hash FROM {} "
            "WHERE event_id = ANY(%b::text[])"
        ).format(self.index_table)
        self._copy_index = SQL("COPY {} FROM STDIN (FORMAT BINARY)").format(self.index_table)
        self._copy_events = SQL(
            "COPY {} (originator_id, originator_version, topic, state, chain) FROM STDIN (FORMAT BINARY)"
        ).format(self.events_table)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (event_id text PRIMARY KEY, student_id text NOT NULL, "
                "record_type text NOT NULL, objective_id text, body_hash text NOT NULL)"
            ).format(self.index_table)
        )

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

        Versions and chain values are those of the heads read under the lock;
        the values are hashed before it, from the heads as they were, and
        hashed again under it only if those heads have moved since: writers
        queue on the lock, so time spent hashing under it would slow them all.
        """
        streams = streams_of(stored_events)
        with self.datastore.get_connection() as conn:
            before = self._chain_heads(conn, streams)
        guess = self.chained(stored_events, before)
        with self._writing() as (conn, curs):
            with curs.copy(self._copy_index) as copy:
                copy.set_types(_INDEX_TYPES)
                for index_row in index_rows:
                    copy.write_row(index_row)
            heads = self._chain_heads(conn, streams)
            events, values = guess if heads == before else self.chained(stored_events, heads)
            with curs.copy(self._copy_events) as copy:
                copy.set_types(_EVENT_TYPES)
                for e, value in zip(events, values, strict=True):
                    copy.write_row((e.originator_id, e.originator_version, e.topic, e.state, value))
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
        rows = self._stream_page(
            "notification_id, originator_id, originator_version, topic, state", after, before, upto, limit
        )
        return [
            Notification(id=nid, originator_id=oid, originator_version=v, topic=topic, state=bytes(state))
            for nid, oid, v, topic, state in rows
        ]

    def index_snapshot(self, student_id: str | None = None) -> tuple[int, dict[str, int]]:
        where = SQL("") if student_id is None else SQL(" WHERE student_id = %s")
        with self._snapshot() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(self.max_notification_id_statement)
            upto = (curs.fetchone() or (None,))[0] or 0
            counts = SQL("SELECT student_id, COUNT(*) FROM {}{} GROUP BY student_id")
            curs.execute(counts.format(self.index_table, where), [] if student_id is None else [student_id])
            return int(upto), {sid: int(n) for sid, n in curs.fetchall()}

    def student_snapshot(self, stream: UUID, student_id: str) -> tuple[list[ChainedRow], list[str]]:
        with self._snapshot() as conn, conn.cursor(row_factory=tuple_row) as curs:
            rows = self._stream_rows(conn, stream)
            curs.execute(
                SQL("SELECT event_id FROM {} WHERE student_id = %s").format(self.index_table), [student_id]
            )
            return rows, [r[0] for r in curs.fetchall()]


_INDEX_TYPES = ["text", "text", "text", "text", "text"]
_EVENT_TYPES = ["uuid", "int8", "text", "bytea", "bytea"]
