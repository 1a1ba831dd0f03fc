"""The trust store: what must outlive the disposable read models and must not
sit beside the event log. Students' keys, the deployment's secrets (the hash
chain key, the pseudonym key), bearer tokens and the access log.

Embedded: `trust.sqlite` in the data dir, a file of its own, with
`secure_delete` on so that an erased key's bytes are overwritten, not left in
a free page. PostgreSQL: `MASTERY_TRUST_DATABASE_URL` when set (a database a
district can back up and grant apart), else the schema `mastery_trust` of
the main database. docs/security.md says which to choose.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    inspect,
    select,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from infra.exclusive import schema_turn
from infra.readstore import NAMING, create_tables, sqlalchemy_url
from infra.settings import Settings

trust_metadata = MetaData(naming_convention=NAMING)
TRUST_SCHEMA = "mastery_trust"

# Named secrets of the deployment, drawn once by whichever process asks first.
CHAIN_KEY = "event_chain"
PSEUDONYM_KEY = "student_pseudonym"

trust_secrets = Table(
    "trust_secrets",
    trust_metadata,
    Column("name", String, primary_key=True),
    Column("secret", LargeBinary, nullable=False),
)

# One 256-bit key per student; its row is deleted when the student is erased
# (the erasure itself is an event in the student's profile stream).
student_keys = Table(
    "student_keys",
    trust_metadata,
    Column("student_id", String, primary_key=True),
    Column("key", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Erased students: a key is never drawn again for them.
erased_students = Table(
    "erased_students",
    trust_metadata,
    Column("student_id", String, primary_key=True),
    Column("erased_at", DateTime(timezone=True), nullable=False),
)

# Every read of a student's records: appended, never updated.
access_log = Table(
    "access_log",
    trust_metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), Identity(), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("token_id", String, nullable=False),
    Column("token_name", String, nullable=False),
    Column("role", String, nullable=False),
    Column("student_id", String, nullable=False),
    Column("endpoint", String, nullable=False),
    Column("status", Integer, nullable=False),
    Index(None, "student_id", "id"),
)


def insert_missing(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert the rows whose primary key is not there yet (the trust store's
    writes are few: plain statements, not infra.bulk's projection paths)."""
    if not rows:
        return
    insert = sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert
    conn.execute(insert(table).on_conflict_do_nothing(), list(rows))


def trust_path(settings: Settings) -> str:
    return str(settings.data_dir / "trust.sqlite")


def open_trust_store(settings: Settings) -> Engine:
    """The trust store's engine, its tables created."""
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(f"sqlite:///{trust_path(settings)}")

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            # Deleted content is overwritten with zeros: an erased key leaves no copy in a free page.
            cur.execute("PRAGMA secure_delete=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

    else:
        url = settings.trust_database_url
        if url is None:
            engine = _schema_engine(settings.database_url)
        else:
            engine = create_engine(sqlalchemy_url(url), pool_size=5, max_overflow=10, pool_pre_ping=True)
    with schema_turn(settings):
        if settings.database_url is not None and settings.trust_database_url is None:
            # In the turn: two processes' CREATE SCHEMA IF NOT EXISTS at once
            # collide in PostgreSQL's catalog (a unique violation), as tables do.
            with engine.begin() as conn:
                conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {TRUST_SCHEMA}")
        create_tables(engine, trust_metadata.sorted_tables)
        _append_only(engine)
    return engine


# The access log is append-only in the store as well as in the code (no route
# writes it; infra/access_log.py only inserts): a trigger refuses to change or
# delete its rows, so neither a bug nor a statement sent with the service's
# credentials rewrites who read what. (Whoever may drop a trigger may drop the
# table: that is the database's own access control, docs/security.md.)
_REFUSE = "access_log is append-only"
_SQLITE_APPEND_ONLY = [
    f"CREATE TRIGGER IF NOT EXISTS access_log_no_{op.lower()} BEFORE {op} ON access_log "
    f"BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END"
    for op in ("UPDATE", "DELETE")
]
_POSTGRES_APPEND_ONLY = [
    "CREATE OR REPLACE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN RAISE EXCEPTION '{_REFUSE}'; END $$",
    "CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON access_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only()",
]


def _append_only(engine: Engine) -> None:
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            for statement in _SQLITE_APPEND_ONLY:
                conn.exec_driver_sql(statement)
            return
        # Created once: CREATE OR REPLACE TRIGGER at every start would lock the table each time.
        found = conn.exec_driver_sql(
            "SELECT 1 FROM pg_trigger WHERE tgname = 'access_log_append_only' "
            "AND tgrelid = 'access_log'::regclass"
        ).first()
        if found is None:
            for statement in _POSTGRES_APPEND_ONLY:
                conn.exec_driver_sql(statement)


def _schema_engine(database_url: str) -> Engine:
    """The main database, every connection on the trust schema."""
    engine = create_engine(
        sqlalchemy_url(database_url),
        pool_size=5,
        max_overflow=10,
        pool_pre_ping=True,
        connect_args={"options": f"-csearch_path={TRUST_SCHEMA}"},
    )
    return engine


def secret(engine: Engine, name: str) -> bytes:
    """The deployment's secret `name`, drawn (256 bits) by whichever process asks first."""
    for attempt in range(2):
        try:
            with engine.begin() as conn:
                insert_missing(conn, trust_secrets, [{"name": name, "secret": secrets.token_bytes(32)}])
                value = conn.execute(
                    select(trust_secrets.c.secret).where(trust_secrets.c.name == name)
                ).scalar()
            break
        except DBAPIError:
            # Two processes drawing it at once on a new store: the loser reads the winner's.
            if attempt:
                raise
    assert value is not None
    return bytes(value)


def checkpoint(engine: Engine) -> None:
    """On the embedded store, move the write-ahead log into the database file
    and empty it, so that what `secure_delete` zeroed leaves no older copy in
    `trust.sqlite-wal`. Nothing to do on PostgreSQL (its WAL is the server's)."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def adopt_read_store_secrets(settings: Settings, read_models: Engine, trust: Engine) -> None:
    """Move what stores before the trust store kept in the read-model
    database (the tokens, the pseudonym secret) into the trust store, once.

    Copied then dropped, each step safe to repeat: a process killed between
    the two copies again (the rows are kept as first copied) and drops.
    """
    from infra.tokens import auth_tokens  # the table lives with TokenStore

    with schema_turn(settings):
        legacy = {"auth_tokens", "export_secrets"} & set(inspect(read_models).get_table_names())
        if not legacy:
            return
        tokens: list[dict[str, Any]] = []
        pseudonym: list[dict[str, Any]] = []
        with read_models.connect() as conn:
            if "auth_tokens" in legacy:
                # The old table read through today's column types (JSON scopes, times).
                held = {c["name"] for c in inspect(conn).get_columns("auth_tokens")}
                columns = (Column(c.name, c.type) for c in auth_tokens.c if c.name in held)
                old = Table("auth_tokens", MetaData(), *columns)
                tokens = [dict(r._mapping) for r in conn.execute(select(old))]
            if "export_secrets" in legacy:
                rows = conn.exec_driver_sql("SELECT name, secret FROM export_secrets").all()
                pseudonym = [{"name": n, "secret": bytes.fromhex(v)} for n, v in rows if n == PSEUDONYM_KEY]
        with trust.begin() as conn:
            insert_missing(conn, auth_tokens, tokens)
            insert_missing(conn, trust_secrets, pseudonym)
        with read_models.begin() as conn:
            for name in sorted(legacy):
                conn.exec_driver_sql(f"DROP TABLE {conn.dialect.identifier_preparer.quote(name)}")
