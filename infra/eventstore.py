"""The event store: an `eventsourcing` Application on SQLite or PostgreSQL,
one log, recorded by the indexed recorders of infra/recorders_sqlite.py and
infra/recorders_postgres.py, every event linked into its stream's hash chain
(infra/chain.py) with the trust store's chain key.
"""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import psycopg
from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, Notification, Transcoder
from psycopg.conninfo import conninfo_to_dict

from infra.exclusive import schema_turn
from infra.recorders import END_OF_STREAMS, FIRST_STREAM, IndexRow, LogBusy, StreamKey, StreamRange
from infra.recorders_postgres import IndexedPostgresRecorder
from infra.recorders_sqlite import IndexedSQLiteRecorder
from infra.settings import ConfigError, Settings
from infra.transcoder import OrjsonTranscoder
from infra.trust import CHAIN_KEY, open_trust_store, secret

IndexedRecorder = IndexedSQLiteRecorder | IndexedPostgresRecorder

__all__ = [
    "IndexRow",
    "IntegrityError",
    "LedgerStore",
    "LogBusy",
    "open_event_store",
    "postgres_holds_event_store",
]


class LedgerStore(Application[UUID]):
    """The event store of Mastery Ledger (one application, one log)."""

    name = "MasteryLedger"

    def construct_transcoder(self) -> Transcoder:
        # The library's stored format (and its default transcodings), read and
        # written with orjson: see infra/transcoder.py.
        transcoder = OrjsonTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    @property
    def indexed(self) -> IndexedRecorder:
        recorder = self.recorder
        assert isinstance(recorder, (IndexedSQLiteRecorder, IndexedPostgresRecorder))
        return recorder

    def head_position(self) -> int:
        return self.recorder.max_notification_id() or 0

    def streams_upto(
        self, upto: int, chunk: int, streams: StreamRange = (FIRST_STREAM, END_OF_STREAMS)
    ) -> Iterator[list[Notification]]:
        """The log up to position `upto`, in stream order (each stream's events
        in version order), in chunks of about `chunk` events that never split
        a stream: a chunk holds the whole of every stream it touches. Only the
        streams whose ids fall in `streams` [from, to).

        A rebuild reads the log this way so that each student is computed
        once, from its complete history, instead of once per batch it
        appears in. Pages are keyset-paginated on the (stream, version) key.
        """
        pending: list[Notification] = []
        after: StreamKey = (streams[0], -1)
        while True:
            rows = self.indexed.select_by_stream(after, streams[1], upto, chunk)
            if not rows:
                break
            pending.extend(rows)
            last = rows[-1]
            assert isinstance(last.originator_id, UUID)
            after = (last.originator_id, last.originator_version)
            if len(pending) >= chunk:
                # Hold back the last stream: its next page may continue it.
                cut = len(pending)
                while cut > 0 and pending[cut - 1].originator_id == after[0]:
                    cut -= 1
                if cut > 0:
                    yield pending[:cut]
                    pending = pending[cut:]
        if pending:
            yield pending


def _postgres_env(url: str) -> dict[str, str]:
    try:
        info = conninfo_to_dict(url)
    except psycopg.ProgrammingError as e:
        raise ConfigError(f"MASTERY_DATABASE_URL is malformed: {e}") from None
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "APPLICATION_RECORDER_TOPIC": "infra.recorders_postgres:IndexedPostgresRecorder",
        "POSTGRES_DBNAME": str(info.get("dbname") or info.get("user") or "postgres"),
        "POSTGRES_HOST": str(info.get("host") or "localhost"),
        "POSTGRES_PORT": str(info.get("port") or "5432"),
        "POSTGRES_USER": str(info.get("user") or "postgres"),
        "POSTGRES_PASSWORD": str(info.get("password") or ""),
        "POSTGRES_CONNECT_TIMEOUT": "5",
        # DESIGN.md: keep the table-lock insert path; the db-function path let
        # tailing readers skip events under concurrent writers.
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
        "POSTGRES_POOL_SIZE": "5",
        "POSTGRES_MAX_OVERFLOW": "10",
    }


def check_postgres(url: str) -> None:
    """Fail fast, with one line, when the database cannot be reached."""
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.ProgrammingError as e:
        raise ConfigError(f"MASTERY_DATABASE_URL is malformed: {e}") from None
    except psycopg.OperationalError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(f"cannot reach the database in MASTERY_DATABASE_URL: {first}") from None


def postgres_holds_event_store(url: str) -> bool:
    """Whether the database already holds the event log (the library names its
    table after the application: `masteryledger_events`). The CLI's readers
    ask, so that a wrong database name that happens to exist is not given an
    empty store."""
    check_postgres(url)
    table = f"{LedgerStore.name.lower()}_events"
    with psycopg.connect(url, connect_timeout=5) as conn:
        row = conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()
    return row is not None and row[0] is not None


def open_event_store(settings: Settings) -> LedgerStore:
    if settings.database_url is None:
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "APPLICATION_RECORDER_TOPIC": "infra.recorders_sqlite:IndexedSQLiteRecorder",
            "SQLITE_DBNAME": str(settings.events_path),
            "SQLITE_LOCK_TIMEOUT": "30",
        }
    else:
        check_postgres(settings.database_url)
        env = _postgres_env(settings.database_url)
    key = _chain_key(settings)
    with schema_turn(settings):  # the library creates its tables as it starts
        store = LedgerStore(env=env)
        store.indexed.chain_key = key  # before any write
        try:
            # A store written before the chain: its rows sealed now, once (see docs/security.md).
            store.indexed.seal_unchained()
        except BaseException:
            store.factory.close()
            raise
    return store


def _chain_key(settings: Settings) -> bytes:
    """The key of the log's hash chain, from the trust store (drawn on a new deployment)."""
    trust = open_trust_store(settings)
    try:
        return secret(trust, CHAIN_KEY)
    finally:
        trust.dispose()
