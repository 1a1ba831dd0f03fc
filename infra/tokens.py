"""Bearer tokens, stored hashed (SHA-256 of 256 random bits: no salt needed at that entropy)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import JSON, Column, DateTime, Engine, String, Table, select, update
from sqlalchemy.engine import Connection

from infra.readstore import metadata


@dataclass(frozen=True)
class ScopeRule:
    """The scopes a role holds (CONTRACT.md §3): of one kind, at least one and
    at most `most`; kind None: none at all (the role sees everyone or no one's records)."""

    kind: str | None
    most: int | None = None


SCOPE_RULES = {
    "admin": ScopeRule(None),
    "teacher": ScopeRule("class"),
    "student": ScopeRule("student", most=1),
    "guardian": ScopeRule("student"),
    "auditor": ScopeRule(None),
    "analyst": ScopeRule(None),
    "ingest": ScopeRule(None),
}
ROLES = tuple(SCOPE_RULES)


def check_scopes(role: str, scopes: list[str]) -> None:
    """Refuse, with one line (ValueError), a role that does not exist or scopes
    the role cannot use: a scope that would be accepted and then ignored
    (`school:ID` on a teacher) hides a mistake until someone cannot read."""
    rule = SCOPE_RULES.get(role)
    if rule is None:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    for scope in scopes:
        kind, _, ident = scope.partition(":")
        if not kind or not ident:
            raise ValueError(f"scope {scope!r} must be KIND:ID, e.g. class:7b")
        if rule.kind is None:
            raise ValueError(f"role {role} takes no scope (got {scope!r})")
        if kind != rule.kind:
            raise ValueError(f"role {role} takes {rule.kind}:ID scopes, not {scope!r}")
    if rule.kind is not None and not scopes:
        raise ValueError(f"role {role} needs a {rule.kind}:ID scope (--scope {rule.kind}:ID)")
    if rule.most is not None and len(set(scopes)) > rule.most:
        raise ValueError(f"role {role} takes one {rule.kind}:ID scope, not {len(set(scopes))}")


auth_tokens = Table(
    "auth_tokens",
    metadata,
    Column("token_id", String, primary_key=True),
    Column("token_hash", String, nullable=False, unique=True),
    Column("role", String, nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("name", String, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)


@dataclass(frozen=True)
class Principal:
    token_id: str
    role: str
    name: str
    scopes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def recorded_by(self) -> str:
        return f"{self.role}:{self.name}"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    def __init__(self, engine: Engine, bootstrap_token: str | None = None) -> None:
        self.engine = engine
        self.bootstrap_token = bootstrap_token

    def create(self, role: str, scopes: list[str], name: str, token: str | None = None) -> str:
        """Store a new token's hash and return the token, which is shown once.

        `token` lets the demo mint reproducible tokens; everything else lets
        the secret be drawn here.
        """
        check_scopes(role, scopes)
        token = token or "ml_" + secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            existing = conn.execute(
                select(auth_tokens.c.token_id).where(auth_tokens.c.token_hash == _hash(token))
            ).first()
            if existing is None:
                conn.execute(
                    auth_tokens.insert().values(
                        token_id=secrets.token_hex(8),
                        token_hash=_hash(token),
                        role=role,
                        scopes=list(scopes),
                        name=name or role,
                        created_at=datetime.now(UTC),
                    )
                )
        return token

    def revoke(self, token_id: str) -> bool:
        with self.engine.begin() as conn:
            res = conn.execute(
                update(auth_tokens)
                .where(auth_tokens.c.token_id == token_id, auth_tokens.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
            return bool(res.rowcount)

    def authenticate(self, token: str, conn: Connection | None = None) -> Principal | None:
        """`conn`: a connection the caller already holds (a request's), which
        saves checking out another one."""
        # Bytes: compare_digest refuses a str with non-ASCII characters (a TypeError,
        # so a 500), and a header may carry any byte (read as latin-1).
        if self.bootstrap_token and hmac.compare_digest(token.encode(), self.bootstrap_token.encode()):
            return Principal("bootstrap", "admin", "bootstrap")
        q = select(auth_tokens).where(auth_tokens.c.token_hash == _hash(token))
        if conn is not None:
            row = conn.execute(q).first()
        else:
            with self.engine.connect() as own:
                row = own.execute(q).first()
        if row is None or row.revoked_at is not None:
            return None
        return Principal(row.token_id, row.role, row.name, tuple(row.scopes))
