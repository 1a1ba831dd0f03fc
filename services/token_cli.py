"""`mastery token …`: create, list and revoke bearer tokens (CONTRACT.md §3)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from services.cli_store import DataDir, existing_settings
from services.cli_store import die as _die

if TYPE_CHECKING:
    from sqlalchemy import Engine

token_app = typer.Typer(help="Bearer tokens.", no_args_is_help=True)

# Written out rather than read from infra.tokens (ROLES, SCOPE_RULES), which
# would load SQLAlchemy and the drivers before `mastery --help` could answer.
_ROLE_HELP = "admin, teacher, student, guardian, leader, auditor, analyst, ingest"
_SCOPE_HELP = "class:ID for a teacher, student:ID for a student or guardian, school:ID for a leader"


@token_app.command("create")
def create(
    role: Annotated[str, typer.Option("--role", help=_ROLE_HELP)],
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help=f"{_SCOPE_HELP} (repeatable; a student takes one)")
    ] = None,
    name: Annotated[
        str, typer.Option("--name", help="who holds it (recorded on every event it writes)")
    ] = "",
    expires_in: Annotated[
        int | None,
        typer.Option("--expires-in", help="days until it stops working (default: never)", min=1, max=36_500),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Print a new bearer token. It is stored hashed: this is the only time it is shown."""
    from infra.tokens import TokenStore, check_scopes

    scopes = list(scope or [])
    with _stores(data_dir) as (read_models, trust):
        try:
            check_scopes(role, scopes)  # the scope's kind first: then what it names
            _check_named(read_models, scopes)
            lifetime = timedelta(days=expires_in) if expires_in is not None else None
            token = TokenStore(trust).create(role, scopes, name or role, expires_in=lifetime)
        except ValueError as e:
            _die(str(e))
    print(token)


@token_app.command("list")
def list_tokens(data_dir: DataDir = None) -> None:
    """Every token: id, name, role, scopes, created, expires, last used, revoked (never the secret)."""
    from infra.tokens import TokenStore
    from services.cli_table import aligned

    with _stores(data_dir) as (_, trust):
        tokens = TokenStore(trust).list()
    header = ("id", "name", "role", "scopes", "created", "expires", "last used", "revoked")
    rows = [
        (
            t.token_id,
            t.name,
            t.role,
            " ".join(t.scopes) or "-",
            _when(t.created_at),
            _when(t.expires_at, "never"),
            _when(t.last_used_at, "never"),
            _when(t.revoked_at, "-"),
        )
        for t in tokens
    ]
    typer.echo(aligned(header, rows), nl=False)


@token_app.command("revoke")
def revoke(
    token_or_id: Annotated[str, typer.Argument(metavar="TOKEN_OR_ID", help="the token's id or the token")],
    data_dir: DataDir = None,
) -> None:
    """Revoke a token: every process refuses it (401) from its next request."""
    from infra.tokens import TokenStore

    with _stores(data_dir) as (_, trust):
        revoked = TokenStore(trust).revoke(token_or_id)
    if not revoked:
        _die("no such token, or it is already revoked")  # the argument may be a secret: not echoed
    print("revoked")


@contextmanager
def _stores(data_dir: Path | None) -> Iterator[tuple[Engine, Engine]]:
    """The read models (what a scope names) and the trust store (the tokens)
    of a store that exists, announced on stderr: a typo in --data-dir must not
    mint a token into a new, empty store."""
    from infra.readstore import open_read_store
    from infra.trust import adopt_read_store_secrets, open_trust_store

    settings = existing_settings(data_dir)
    read_models = open_read_store(settings)
    trust = open_trust_store(settings)
    try:
        adopt_read_store_secrets(settings, read_models, trust)
        yield read_models, trust
    finally:
        trust.dispose()
        read_models.dispose()


def _check_named(engine: Engine, scopes: list[str]) -> None:
    """Refuse a scope that names nothing in the read models (a typo would
    give a token that reads nothing, found out only when someone cannot read)."""
    from sqlalchemy import select

    from infra.readmodels import classes, schools, students

    tables = {"class": classes.c.class_id, "student": students.c.student_id, "school": schools.c.school_id}
    with engine.connect() as conn:
        for scope in scopes:
            kind, _, ident = scope.partition(":")
            column = tables[kind]
            if conn.execute(select(column).where(column == ident)).first() is None:
                raise ValueError(f"scope {scope!r} names no {kind}: there is no {kind} {ident!r}")


def _when(t: datetime | None, none: str = "") -> str:
    from services.cli_table import rfc3339  # one time format for every table the CLI prints

    return rfc3339(t) if t is not None else none
