"""The `server` fixture of the e2e tests: a `mastery serve` process on a
fresh store of the test's backend, stopped before the store is dropped."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.serve_process import TOKEN, Server
from tests.services import fresh_postgres_database


@pytest.fixture
def server_env(backend: str) -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTERY_")}
    env["MASTERY_BOOTSTRAP_TOKEN"] = TOKEN
    if backend == "sqlite":
        yield env
    else:
        with fresh_postgres_database() as url:
            yield {**env, "MASTERY_DATABASE_URL": url}


@pytest.fixture
def server(server_env: dict[str, str], tmp_path: Path) -> Iterator[Server]:
    srv = Server(server_env, tmp_path / "data")
    try:
        yield srv
    finally:
        srv.stop()  # before the database is dropped
