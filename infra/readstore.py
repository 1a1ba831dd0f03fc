"""The read-model database: SQLite file beside the event store, or the same PostgreSQL.

SQLAlchemy Core keeps the projection code dialect-neutral; the two places
where dialects differ (upsert, engine options) live here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from infra.settings import Settings

metadata = MetaData()

projection_tracking = Table(
    "projection_tracking",
    metadata,
    Column("projection", String, primary_key=True),
    Column("position", Integer, nullable=False),
)


def open_read_store(settings: Settings) -> Engine:
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(f"sqlite:///{settings.readmodels_path}")

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            # WAL lets the query threads read while the projection thread writes.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

    else:
        url = settings.database_url.replace("postgres://", "postgresql://", 1)
        engine = create_engine(
            url.replace("postgresql://", "postgresql+psycopg://", 1),
            pool_size=10,
            max_overflow=10,
            pool_pre_ping=True,
        )
    metadata.create_all(engine)
    return engine


def upsert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> None:
    """Insert rows, replacing the non-key columns of rows whose keys exist."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    updates = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
    conn.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=updates), list(rows))


def insert_ignore(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, skipping those whose primary key exists (redelivery)."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(table).on_conflict_do_nothing(), list(rows))


def tracked_position(conn: Connection, projection: str) -> int:
    pos = conn.execute(
        select(projection_tracking.c.position).where(projection_tracking.c.projection == projection)
    ).scalar()
    return int(pos or 0)


def set_position(conn: Connection, projection: str, position: int) -> None:
    upsert(conn, projection_tracking, [{"projection": projection, "position": position}], ["projection"])
