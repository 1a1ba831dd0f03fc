"""Where the bench finds PostgreSQL (the same order as the tests, CONTRACT.md §6) and its fresh database."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import psycopg

from infra.pgadmin import scratch_database

LOCAL_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


def admin_url() -> str:
    for var in ("MASTERY_BENCH_DATABASE_URL", "MASTERY_TEST_DATABASE_URL"):
        if url := os.environ.get(var):
            return url
    return LOCAL_PG


@contextlib.contextmanager
def fresh_database(keep: bool = False) -> Iterator[str]:
    """A new, empty database for one bench run, dropped afterwards unless `keep`."""
    admin = admin_url()
    try:
        psycopg.connect(admin, connect_timeout=5).close()
    except psycopg.OperationalError as e:
        raise SystemExit(
            f"bench: PostgreSQL at {admin} does not answer ({str(e).strip().splitlines()[0]}); "
            "set MASTERY_BENCH_DATABASE_URL"
        ) from None
    with scratch_database(admin, "mastery_bench", keep) as url:
        yield url
