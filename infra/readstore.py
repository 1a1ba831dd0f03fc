"""The read-model database: SQLite file beside the event store, or the same PostgreSQL.

SQLAlchemy Core keeps the projection code dialect-neutral; the two places
where dialects differ (upsert, engine options) live here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import (
    Engine,
    MetaData,
    Table,
    create_engine,
    event,
    inspect,
)
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateIndex, CreateTable

from infra.exclusive import schema_turn
from infra.settings import Settings

# Index and constraint names carry their table's name, so a rebuild's fresh
# tables (same columns, another name) never collide with the live ones.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)


def fresh_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING)


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


# JSON columns are on the projection hot path; orjson is several times faster.
_JSON: dict[str, Any] = {"json_serializer": _dumps, "json_deserializer": orjson.loads}


def open_read_store(settings: Settings) -> Engine:
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(f"sqlite:///{settings.readmodels_path}", **_JSON)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            # WAL lets the query threads read while the projection thread writes.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

    else:
        engine = create_engine(
            sqlalchemy_url(settings.database_url),
            pool_size=10,
            max_overflow=10,
            pool_pre_ping=True,
            **_JSON,
        )
        # Let SQLAlchemy page executemany INSERTs into multi-row statements on
        # psycopg too (its psycopg2 dialect does): a 200k-event rebuild sent
        # 291k single-row statements otherwise.
        engine.dialect.use_insertmanyvalues_wo_returning = True
    # Here, not at the top: infra/tracking.py defines its table on this module's metadata.
    from infra.tracking import adopt_old_tracking

    with schema_turn(settings):
        create_tables(engine, metadata.sorted_tables)
        with engine.begin() as conn:
            adopt_old_tracking(conn)
    return engine


def sqlalchemy_url(database_url: str) -> str:
    url = database_url.replace("postgres://", "postgresql://", 1)
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def open_reader(settings: Settings, engine: Engine) -> Engine:
    """The engine that requests read through.

    On PostgreSQL, a pool of its own without the pre-ping, which costs a round
    trip on every checkout: a read's first statement finds out instead
    whether its connection survived, and a read that finds it dead runs once
    more on a fresh one (services/http.py). On SQLite, `engine` itself (a
    ping there costs nothing).
    """
    if settings.database_url is None:
        return engine
    return create_engine(sqlalchemy_url(settings.database_url), pool_size=10, max_overflow=10, **_JSON)


def create_tables(engine: Engine, tables: Sequence[Table]) -> None:
    """CREATE … IF NOT EXISTS, so that processes starting together on a new
    store do not trip over each other (SQLAlchemy's create_all checks, then
    creates: two processes both find the table missing). On PostgreSQL the
    caller also holds `schema_turn`: concurrent IF NOT EXISTS can still clash
    in its catalog.

    A table at a time, and only the indexes that are missing: CREATE INDEX
    IF NOT EXISTS takes the table's SHARE lock even when the index exists,
    and held to the end of one transaction over every table, a worker
    starting beside one that is applying a batch (which holds ROW EXCLUSIVE
    on some of these tables and wants it on others) deadlocked with it."""
    for t in tables:
        with engine.begin() as conn:
            conn.execute(CreateTable(t, if_not_exists=True))
            add_missing_columns(conn, t)
            present = {ix["name"] for ix in inspect(conn).get_indexes(t.name)}
            for ix in t.indexes:
                if ix.name not in present:
                    conn.execute(CreateIndex(ix, if_not_exists=True))


def add_missing_columns(conn: Connection, table: Table) -> None:
    """Add the columns a table has gained since an existing store created it
    (CREATE TABLE IF NOT EXISTS leaves an old table as it is). Only nullable
    columns are ever added to a table, so old rows hold NULL. The columns are
    looked up first: an ALTER TABLE that adds nothing would still take the
    table's exclusive lock on PostgreSQL at every start."""
    present = {c["name"] for c in inspect(conn).get_columns(table.name)}
    prep = conn.dialect.identifier_preparer
    # The caller holds schema_turn; IF NOT EXISTS is for an older
    # process that does not take it. SQLite has no such clause (and one writer).
    clause = "" if conn.dialect.name == "sqlite" else "IF NOT EXISTS "
    for col in table.columns:
        if col.name in present:
            continue
        if not col.nullable:
            raise RuntimeError(f"table {table.name} lacks column {col.name}, which old rows cannot hold")
        kind = col.type.compile(dialect=conn.dialect)
        conn.exec_driver_sql(
            f"ALTER TABLE {prep.format_table(table)} ADD COLUMN {clause}{prep.format_column(col)} {kind}"
        )


def analyze(engine: Engine, tables: Sequence[str]) -> None:
    """Fresh statistics for tables just filled in bulk. Without them (and with
    autovacuum off, as on some servers) PostgreSQL planned the live
    projection's key lookups on a rebuilt table as a sort of the whole table:
    400 ms a batch instead of 20."""
    with engine.begin() as conn:
        for name in tables:
            conn.exec_driver_sql(f"ANALYZE {conn.dialect.identifier_preparer.quote(name)}")


def swap_tables(conn: Connection, live: str, fresh: str, retired: str) -> None:
    """Put `fresh` in place of `live` inside the caller's transaction.

    Both dialects rename tables transactionally, so readers see either the
    old table or the new one, never neither.
    """
    prep = conn.dialect.identifier_preparer
    q = prep.quote
    conn.exec_driver_sql(f"ALTER TABLE {q(live)} RENAME TO {q(retired)}")
    conn.exec_driver_sql(f"ALTER TABLE {q(fresh)} RENAME TO {q(live)}")
    conn.exec_driver_sql(f"DROP TABLE {q(retired)}")
