"""What the CASE import tests share: the fixture package and rules, the
`mastery import case` command run in process on the service's store (the
`store` fixture wires it), and the catalog read back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from services import cli
from tests.helpers import ledger_of

FIXTURES = Path(__file__).parents[1] / "fixtures" / "case"
PACKAGE, RULES = FIXTURES / "lincoln-math.json", FIXTURES / "rules.json"
DEFAULT_RULE = '{"threshold": {"kind": "percent", "min": 80}}'


def import_case(*args: str | Path) -> Result:
    return CliRunner().invoke(cli.app, ["import", "case", *map(str, args)])


def head_of(client: TestClient) -> int:
    return ledger_of(client).store.head_position()


def catalog_at(client: TestClient, position: int, **params: str) -> dict[str, dict[str, Any]]:
    r = client.get("/v1/objectives", params={"min_position": position, "limit": 1000, **params})
    assert r.status_code == 200, r.text
    return {o["objective_id"]: o for o in r.json()["objectives"]}
