"""Shared fixtures: every integration test runs once per backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from infra.settings import Settings, load_settings
from services.app import create_app
from services.bootstrap import Ledger, build_ledger
from tests.services import fresh_postgres_database

BOOT = "test-bootstrap-token"
AUTH = {"Authorization": f"Bearer {BOOT}"}


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path) -> Iterator[Settings]:
    if backend == "sqlite":
        yield load_settings(data_dir=tmp_path / "data", bootstrap_token=BOOT)
    else:
        with fresh_postgres_database() as url:
            yield load_settings(data_dir=tmp_path / "data", bootstrap_token=BOOT, database_url=url)


@pytest.fixture
def ledger(settings: Settings) -> Iterator[Ledger]:
    built = build_ledger(settings)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The whole service (role all) in process, with projections running."""
    with TestClient(create_app(settings)) as c:
        c.headers.update(AUTH)
        yield c
