"""Where the test suite finds its services (CONTRACT.md §6).

PostgreSQL, in order: MASTERY_TEST_DATABASE_URL; a testcontainers container
where a Docker engine answers; the server on 127.0.0.1:5432. When none can be
had, the tests that need it fail saying so: nothing is skipped.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from functools import cache

import psycopg

from infra.pgadmin import scratch_database

LOCAL_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


def _reachable(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


@cache
def postgres_admin_url() -> str:
    """A URL of a database on a server where the tests may create databases."""
    explicit = os.environ.get("MASTERY_TEST_DATABASE_URL")
    if explicit:
        if not _reachable(explicit):
            raise RuntimeError(f"MASTERY_TEST_DATABASE_URL={explicit} is set but does not answer")
        return explicit
    with contextlib.suppress(Exception):
        import docker  # type: ignore[import-untyped]

        docker.from_env().ping()
        from testcontainers.postgres import PostgresContainer

        container = PostgresContainer("postgres:15", driver=None)
        container.start()
        return str(container.get_connection_url())
    if _reachable(LOCAL_PG):
        return LOCAL_PG
    raise RuntimeError(
        "PostgreSQL is needed for these tests and none was found: set MASTERY_TEST_DATABASE_URL, "
        "start a Docker engine for testcontainers, or run PostgreSQL on 127.0.0.1:5432 "
        "(trust auth for user postgres)."
    )


@contextlib.contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty database for one test, dropped afterwards."""
    with scratch_database(postgres_admin_url(), "mastery_test") as url:
        yield url
