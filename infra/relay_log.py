"""The relay's side of PostgreSQL: the log read after a position, how far it
has published (the table `mastery_relay`, one row per Kafka topic), and the
lock that lets one relay publish at a time.

The event log is the outbox. Writers take the log's table lock (EXCLUSIVE)
for their whole transaction, so positions become visible in order: once a
position is visible, every lower one is committed or never will be (the
hole a rolled-back write leaves). Reading `position > published ORDER BY
position` therefore never skips a row that appears later (the same
invariant the projection runner relies on; DESIGN.md keeps that write path
for this reason).

Everything here runs on one connection, in autocommit, that holds a
session-level advisory lock while the relay publishes: if the connection
goes, so does the lock, and the next read or record fails, so the relay
stops publishing and starts over (waiting for the lock again).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
from psycopg.sql import SQL, Identifier

from infra.kafka_messages import EventRecord, event_records

EVENTS_TABLE = "masteryledger_events"  # the library names it after the application (infra/eventstore.py)
# The advisory lock's first key: "ML" (Mastery Ledger); the second, the topic's CRC32.
LOCK_CLASS = 0x4D4C
CONNECT_TIMEOUT_S = 5

_CREATE = """
CREATE TABLE IF NOT EXISTS mastery_relay (
    topic text PRIMARY KEY,
    position bigint NOT NULL,
    epoch bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
)"""


@dataclass(frozen=True)
class Published:
    """How far the relay of a topic has published, and the reset count (epoch)
    it was read under: a reset bumps it, so a running relay does not record
    over the position a reset chose."""

    position: int
    epoch: int


def lock_key(topic: str) -> int:
    # Signed int4, as pg_try_advisory_lock(int4, int4) takes it.
    return int.from_bytes(zlib.crc32(topic.encode()).to_bytes(4, "big"), "big", signed=True)


def create_table(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    conn.execute(_CREATE)


class RelayLog:
    def __init__(self, conn: psycopg.Connection[tuple[object, ...]], topic: str) -> None:
        self.conn = conn
        self.topic = topic
        self._select_after = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM {} "
            "WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
        ).format(Identifier(EVENTS_TABLE))
        self._select_head = SQL("SELECT max(notification_id) FROM {}").format(Identifier(EVENTS_TABLE))

    def try_lock(self) -> bool:
        row = self.conn.execute(
            "SELECT pg_try_advisory_lock(%s, %s)", [LOCK_CLASS, lock_key(self.topic)]
        ).fetchone()
        return bool(row and row[0])

    def published(self) -> Published:
        self.conn.execute(
            "INSERT INTO mastery_relay (topic, position) VALUES (%s, 0) ON CONFLICT (topic) DO NOTHING",
            [self.topic],
        )
        row = self.conn.execute(
            "SELECT position, epoch FROM mastery_relay WHERE topic = %s", [self.topic]
        ).fetchone()
        assert row is not None
        return Published(int(str(row[0])), int(str(row[1])))

    def record(self, upto: Published) -> bool:
        """Record that everything up to `upto.position` has been published;
        False when a reset came in between (the caller re-reads `published`)."""
        cur = self.conn.execute(
            "UPDATE mastery_relay SET position = %s, updated_at = %s WHERE topic = %s AND epoch = %s",
            [upto.position, datetime.now(UTC), self.topic, upto.epoch],
        )
        return cur.rowcount == 1

    def after(self, position: int, limit: int) -> list[EventRecord]:
        rows = self.conn.execute(self._select_after, [position, limit], prepare=True).fetchall()
        return event_records(rows)  # type: ignore[arg-type]

    def head(self) -> int:
        row = self.conn.execute(self._select_head, prepare=True).fetchone()
        return int(str(row[0])) if row and row[0] is not None else 0


@contextmanager
def relay_connection(database_url: str, topic: str) -> Iterator[RelayLog]:
    """A connection of the relay's own (the lock lives and dies with it)."""
    with psycopg.connect(database_url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
        # Never wait long on a lock: the relay's statements are short, and a
        # stuck one would hold back publishing with no sign of why.
        conn.execute("SET statement_timeout = 30000")
        create_table(conn)
        yield RelayLog(conn, topic)


def reset(database_url: str, topic: str, position: int) -> Published:
    """Make the relay of `topic` publish again everything after `position`
    (a running relay takes it up at its next batch or within a second)."""
    with psycopg.connect(database_url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
        create_table(conn)
        row = conn.execute(
            "INSERT INTO mastery_relay (topic, position, epoch) VALUES (%s, %s, 1) "
            "ON CONFLICT (topic) DO UPDATE SET position = EXCLUDED.position, "
            "epoch = mastery_relay.epoch + 1, updated_at = now() RETURNING position, epoch",
            [topic, position],
        ).fetchone()
        assert row is not None
        return Published(int(str(row[0])), int(str(row[1])))


def published_of(database_url: str, topic: str) -> Published | None:
    """What the relay of `topic` has recorded, without taking anything (the CLI, /metrics)."""
    with psycopg.connect(database_url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
        exists = conn.execute("SELECT to_regclass('mastery_relay')").fetchone()
        if not exists or exists[0] is None:
            return None
        row = conn.execute("SELECT position, epoch FROM mastery_relay WHERE topic = %s", [topic]).fetchone()
        return None if row is None else Published(int(row[0]), int(row[1]))
