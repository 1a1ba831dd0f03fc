"""Where the bench finds PostgreSQL (the same order as the tests, CONTRACT.md §6) and its fresh database."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

LOCAL_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


def admin_url() -> str:
    for var in ("MASTERY_BENCH_DATABASE_URL", "MASTERY_TEST_DATABASE_URL"):
        if url := os.environ.get(var):
            return url
    return LOCAL_PG


def _with_db(url: str, dbname: str) -> str:
    info = conninfo_to_dict(url)
    return "postgresql://{user}{pw}@{host}:{port}/{db}".format(
        user=info.get("user") or "postgres",
        pw=f":{info['password']}" if info.get("password") else "",
        host=info.get("host") or "127.0.0.1",
        port=info.get("port") or 5432,
        db=dbname,
    )


@contextlib.contextmanager
def fresh_database(keep: bool = False) -> Iterator[str]:
    """A new, empty database for one bench run, dropped afterwards unless `keep`."""
    admin = admin_url()
    name = "mastery_bench_" + secrets.token_hex(4)
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as e:
        raise SystemExit(
            f"bench: PostgreSQL at {admin} does not answer ({str(e).strip().splitlines()[0]}); "
            "set MASTERY_BENCH_DATABASE_URL"
        ) from None
    try:
        yield _with_db(admin, name)
    finally:
        if not keep:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
