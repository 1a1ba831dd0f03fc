"""`mastery token create` refuses scopes the role cannot use, with one line and
exit status 2, and stores nothing (issue 10: `--scope school:ID` was accepted
for a teacher and did nothing)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from infra.settings import Settings
from infra.tokens import auth_tokens
from services import cli
from services.bootstrap import Ledger

REFUSED = [
    ("teacher", ["school:sch1"], "role teacher takes class:ID scopes, not 'school:sch1'"),
    ("teacher", ["class:c1", "student:s1"], "role teacher takes class:ID scopes, not 'student:s1'"),
    ("teacher", [], "role teacher needs a class:ID scope"),
    ("student", ["class:c1"], "role student takes student:ID scopes, not 'class:c1'"),
    ("student", ["student:s1", "student:s2"], "role student takes one student:ID scope, not 2"),
    ("guardian", ["school:sch1"], "role guardian takes student:ID scopes, not 'school:sch1'"),
    ("admin", ["class:c1"], "role admin takes no scope (got 'class:c1')"),
    ("auditor", ["student:s1"], "role auditor takes no scope (got 'student:s1')"),
    ("analyst", ["school:sch1"], "role analyst takes no scope (got 'school:sch1')"),
    ("ingest", ["class:c1"], "role ingest takes no scope (got 'class:c1')"),
    ("teacher", ["c1"], "scope 'c1' must be KIND:ID, e.g. class:7b"),
    ("principal", [], "unknown role 'principal'"),
]
ACCEPTED = [
    ("teacher", ["class:c1", "class:c2"]),
    ("student", ["student:s1"]),
    ("guardian", ["student:s1", "student:s2"]),
    ("admin", []),
    ("auditor", []),
    ("analyst", []),
    ("ingest", []),
]


@pytest.fixture
def cli_env(client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Ledger:
    monkeypatch.setenv("MASTERY_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("MASTERY_DATABASE_URL", settings.database_url)
    ledger: Ledger = client.app.state.ledger  # type: ignore[attr-defined]
    return ledger


def _create(role: str, scopes: list[str]) -> tuple[int, str, str]:
    args = ["token", "create", "--role", role, *(a for s in scopes for a in ("--scope", s))]
    result = CliRunner().invoke(cli.app, args)
    return result.exit_code, result.stdout, result.stderr


def _tokens(ledger: Ledger) -> int:
    with ledger.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(auth_tokens)).scalar_one())


def test_scopes_a_role_cannot_use_are_refused(cli_env: Ledger) -> None:
    for role, scopes, message in REFUSED:
        code, out, err = _create(role, scopes)
        assert (code, out) == (2, ""), (role, scopes, out)
        # After the line naming the store it opened, the refusal in one line.
        store, refusal = err.splitlines()
        assert store.startswith("mastery: store: ") and refusal.startswith(f"mastery: {message}"), err
    assert _tokens(cli_env) == 0


def test_scopes_a_role_uses_are_accepted(cli_env: Ledger) -> None:
    for role, scopes in ACCEPTED:
        code, out, err = _create(role, scopes)
        assert code == 0, (role, scopes, err)
        principal = cli_env.tokens.authenticate(out.split()[-1])
        assert principal is not None and (principal.role, principal.scopes) == (role, tuple(scopes))
    assert _tokens(cli_env) == len(ACCEPTED)
