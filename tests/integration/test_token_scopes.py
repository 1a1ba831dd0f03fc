"""`mastery token create` refuses scopes the role cannot use, or that name
nothing, with one line and exit status 2, and stores nothing (issue 10:
`--scope school:ID` was accepted for a teacher and did nothing); `token list`
and `token revoke`; `--expires-in` (issue 11)."""

from __future__ import annotations

import hashlib
import hmac
from contextlib import closing
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Column, MetaData, Table, create_engine, func, inspect, select
from typer.testing import CliRunner

from infra import tokens as tokens_module
from infra.settings import Settings
from infra.tokens import ROLES, SCOPE_RULES, auth_tokens
from services import cli, token_cli
from services.bootstrap import Ledger, build_ledger
from services.export.pseudonyms import Pseudonymiser, pseudonym_secret
from tests.helpers import projected, seed_roster

REFUSED = [
    ("teacher", ["school:sch1"], "role teacher takes class:ID scopes, not 'school:sch1'"),
    ("teacher", ["class:c1", "student:s1"], "role teacher takes class:ID scopes, not 'student:s1'"),
    ("teacher", [], "role teacher needs a class:ID scope"),
    ("student", ["class:c1"], "role student takes student:ID scopes, not 'class:c1'"),
    ("student", ["student:s1", "student:s2"], "role student takes one student:ID scope, not 2"),
    ("guardian", ["school:sch1"], "role guardian takes student:ID scopes, not 'school:sch1'"),
    ("leader", ["class:c1"], "role leader takes school:ID scopes, not 'class:c1'"),
    ("leader", [], "role leader needs a school:ID scope"),
    # A scope of the right kind that names nothing the store knows.
    ("teacher", ["class:c1", "class:c9"], "scope 'class:c9' names no class: there is no class 'c9'"),
    ("guardian", ["student:s9"], "scope 'student:s9' names no student: there is no student 's9'"),
    ("leader", ["school:sch9"], "scope 'school:sch9' names no school: there is no school 'sch9'"),
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
    ("leader", ["school:sch1"]),
    ("leader", ["school:sch1", "school:sch2"]),
    ("admin", []),
    ("auditor", []),
    ("analyst", []),
    ("ingest", []),
]


@pytest.fixture
def cli_env(client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Ledger:
    """The roster the scopes name (schools sch1, sch2; students s1, s2;
    classes c1, c2), projected; the CLI pointed at the same store."""
    monkeypatch.setenv("MASTERY_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("MASTERY_DATABASE_URL", settings.database_url)
    ledger: Ledger = client.app.state.ledger  # type: ignore[attr-defined]
    for n in ("1", "2"):
        seed_roster(client, students=(f"s{n}",), school=f"sch{n}", class_id=f"c{n}")
    assert projected(ledger, ledger.store.head_position())
    return ledger


def _create(role: str, scopes: list[str], *more: str) -> tuple[int, str, str]:
    args = ["token", "create", "--role", role, *(a for s in scopes for a in ("--scope", s)), *more]
    result = CliRunner().invoke(cli.app, args)
    return result.exit_code, result.stdout, result.stderr


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _tokens(ledger: Ledger) -> int:
    with ledger.trust.connect() as conn:
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


def _read(c: TestClient, token: str) -> int:
    status: int = c.get("/v1/objectives", headers={"Authorization": f"Bearer {token}"}).status_code
    return status


def _table(out: str) -> list[dict[str, str]]:
    """The rows of `token list`, cut at the columns its header starts (a name may hold spaces)."""
    header, rule, *lines = out.splitlines()
    assert set(rule) <= {"-", " "}
    names = ["id", "name", "role", "scopes", "created", "expires", "last used", "revoked"]
    starts = [header.index(n) for n in names]
    assert starts == sorted(starts) and header.split("  ")[0] == "id"
    cuts = [*starts, None]
    return [{n: line[cuts[i] : cuts[i + 1]].strip() for i, n in enumerate(names)} for line in lines]


def test_list_shows_tokens_without_their_secrets_and_revoke_takes_id_or_token(
    cli_env: Ledger, client: TestClient
) -> None:
    by_id = _create("leader", ["school:sch1", "school:sch2"], "--name", "Principal Ada")[1].strip()
    by_secret = _create("auditor", [], "--expires-in", "30")[1].strip()
    assert _read(client, by_id) == 200  # its last use is recorded on first use
    cli_env.tokens.flush()
    code, out, err = _cli("token", "list")
    assert code == 0
    assert err.startswith("mastery: store: ")  # which store it read, and nothing else
    assert len(err.splitlines()) == 1
    for token in (by_id, by_secret):
        assert token not in out and hashlib.sha256(token.encode()).hexdigest() not in out
    rows = {row["role"]: row for row in _table(out)}
    assert set(rows) == {"leader", "auditor"}
    leader = cli_env.tokens.authenticate(by_id)
    assert leader is not None
    assert {k: rows["leader"][k] for k in ("id", "name", "scopes", "expires", "revoked")} == {
        "id": leader.token_id,
        "name": "Principal Ada",
        "scopes": "school:sch1 school:sch2",
        "expires": "never",
        "revoked": "-",
    }
    used = datetime.fromisoformat(rows["leader"]["last used"])
    assert used >= datetime.fromisoformat(rows["leader"]["created"])
    auditor = rows["auditor"]
    assert (auditor["scopes"], auditor["last used"], auditor["revoked"]) == ("-", "never", "-")
    lifetime = datetime.fromisoformat(auditor["expires"]) - datetime.fromisoformat(auditor["created"])
    assert abs(lifetime - timedelta(days=30)) <= timedelta(seconds=2)

    assert _cli("token", "revoke", leader.token_id)[:2] == (0, "revoked\n")
    assert _cli("token", "revoke", by_secret)[:2] == (0, "revoked\n")
    assert _read(client, by_id) == _read(client, by_secret) == 401
    for again in (leader.token_id, by_secret, "no-such-token"):
        code, out, err = _cli("token", "revoke", again)
        # The store it opened, then the refusal.
        assert (code, out) == (2, "")
        assert err.splitlines()[-1] == "mastery: no such token, or it is already revoked"
    assert all(row["revoked"] != "-" for row in _table(_cli("token", "list")[1]))


def test_an_expired_token_answers_401(cli_env: Ledger, client: TestClient) -> None:
    token = cli_env.tokens.create("admin", [], "brief", expires_in=timedelta(seconds=-1))
    assert _read(client, token) == 401
    assert _create("admin", [], "--expires-in", "0")[0] == 2  # at least a day
    token = _create("admin", [], "--expires-in", "1")[1].strip()
    assert _read(client, token) == 200


def test_a_store_made_before_the_trust_store_keeps_its_tokens_and_pseudonyms(settings: Settings) -> None:
    """auth_tokens as stores created before issue 11 hold it in the read-model
    database (no expires_at, no last_used_at), beside the pseudonym secret:
    opening the store moves both into the trust store, with every column, and
    drops them from the read models; the tokens work, the pseudonyms stay."""
    old = Table(
        "auth_tokens",
        MetaData(),
        *(
            Column(c.name, c.type, primary_key=c.primary_key)
            for c in auth_tokens.columns
            if c.name in OLD_COLUMNS
        ),
    )
    engine = create_engine(
        f"sqlite:///{settings.readmodels_path}"
        if settings.database_url is None
        else settings.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    token = "ml_made-before-issue-11"
    with engine.begin() as conn:
        old.create(conn)
        conn.execute(
            old.insert().values(
                token_id="t-old",
                token_hash=hashlib.sha256(token.encode()).hexdigest(),
                role="leader",
                scopes=["school:sch1"],
                name="old principal",
                created_at=datetime(2026, 9, 1, tzinfo=UTC),
            )
        )
        conn.exec_driver_sql("CREATE TABLE export_secrets (name VARCHAR PRIMARY KEY, secret VARCHAR)")
        conn.exec_driver_sql(f"INSERT INTO export_secrets VALUES ('student_pseudonym', '{OLD_SECRET.hex()}')")
    engine.dispose()
    with closing(build_ledger(settings)) as ledger:
        assert not {"auth_tokens", "export_secrets"} & set(inspect(ledger.engine).get_table_names())
        with ledger.trust.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("auth_tokens")}
        assert columns == {c.name for c in auth_tokens.columns}
        expected = "p-" + hmac.new(OLD_SECRET, b"s1", hashlib.sha256).hexdigest()[:32]
        assert Pseudonymiser(pseudonym_secret(ledger.trust))("s1") == expected
        principal = ledger.tokens.authenticate(token)
        assert principal is not None and (principal.token_id, principal.scopes) == ("t-old", ("school:sch1",))
        ledger.tokens.flush()
        [info] = ledger.tokens.list()
        assert (info.expires_at, info.revoked_at) == (None, None) and info.last_used_at is not None
    build_ledger(settings).close()  # and again: nothing left to add


OLD_SECRET = bytes(range(32))
OLD_COLUMNS = ("token_id", "token_hash", "role", "scopes", "name", "created_at", "revoked_at")


def _last_used(ledger: Ledger, token: str) -> datetime | None:
    principal = ledger.tokens.authenticate(token)
    assert principal is not None
    ledger.tokens.flush()
    return next(t.last_used_at for t in ledger.tokens.list() if t.token_id == principal.token_id)


def test_last_use_is_written_at_most_once_a_minute_per_token(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read does not write on every request: within LAST_USED_EVERY of the
    last write, a use leaves last_used_at as it is; once it has passed, the
    next use writes it again."""
    token = ledger.tokens.create("auditor", [], "reader")
    first = _last_used(ledger, token)
    assert first is not None
    assert _last_used(ledger, token) == first
    monkeypatch.setattr(tokens_module, "LAST_USED_EVERY", 0.0)
    later = _last_used(ledger, token)
    assert later is not None and later > first


def test_the_help_names_every_role() -> None:
    # token_cli writes the roles out (importing infra.tokens would slow every command's start).
    assert ", ".join(ROLES) == token_cli._ROLE_HELP
    assert all(f"{rule.kind}:ID for a" in token_cli._SCOPE_HELP for rule in SCOPE_RULES.values() if rule.kind)
