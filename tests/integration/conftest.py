"""Fixtures that more than one integration module uses; the backends they
run on (`client`, `settings`) are tests/conftest.py's."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.helpers import RULE_9_OF_10, ledger_of, seed_roster, use_store
from tests.integration import export_world
from tests.integration.bad_input_support import RUBRIC
from tests.integration.export_world import World


@pytest.fixture
def export_district(client: TestClient) -> World:
    """tests/integration/export_world.py's district, for the export tests."""
    return export_world.build(client)


@pytest.fixture
def seeded(client: TestClient) -> TestClient:
    """Two students in a class, two objectives of 9 of 10 and a rubric one:
    what the bad-input and write-permission tests write against."""
    seed_roster(
        client, students=("s1", "s2"), objectives={"o1": RULE_9_OF_10, "o2": RULE_9_OF_10, "r1": RUBRIC}
    )
    return client


@pytest.fixture
def case_store(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    """The service's store, for the `mastery import case` commands run in process."""
    use_store(monkeypatch, ledger_of(client))
    return client
