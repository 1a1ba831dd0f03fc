"""Scratch PostgreSQL databases: created empty for one run, dropped after.

The test suite gives each test its own; the bench gives each run its own.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict


def with_database(url: str, dbname: str) -> str:
    """The same server and credentials as `url`, another database."""
    info = conninfo_to_dict(url)
    return "postgresql://{user}{pw}@{host}:{port}/{db}".format(
        user=info.get("user") or "postgres",
        pw=f":{info['password']}" if info.get("password") else "",
        host=info.get("host") or "127.0.0.1",
        port=info.get("port") or 5432,
        db=dbname,
    )


@contextlib.contextmanager
def scratch_database(admin_url: str, prefix: str, keep: bool = False) -> Iterator[str]:
    """Create an empty database on the server of `admin_url`; drop it afterwards unless `keep`."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(admin_url, name)
    finally:
        if not keep:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# Any fixed number: it names the lock, across every process on the database.
_SCHEMA_LOCK = 0x6D61_7374  # "mast"


@contextlib.contextmanager
def schema_lock(url: str) -> Iterator[None]:
    """Hold a database-wide advisory lock while creating tables.

    `CREATE TABLE IF NOT EXISTS` from several processes at once (the workers
    of `mastery serve --workers N` or of a parallel rebuild, starting
    together) can fail with "tuple concurrently updated"; under this lock they
    take turns, and all but the first find the tables there.
    """
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", [_SCHEMA_LOCK])
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", [_SCHEMA_LOCK])
