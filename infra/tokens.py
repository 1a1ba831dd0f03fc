"""Bearer tokens, stored hashed (SHA-256 of 256 random bits: no salt needed at that entropy)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import JSON, Column, DateTime, Engine, String, Table, or_, select, update
from sqlalchemy.exc import DBAPIError

from infra.trust import trust_metadata


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
    "leader": ScopeRule("school"),
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
    trust_metadata,
    Column("token_id", String, primary_key=True),
    Column("token_hash", String, nullable=False, unique=True),
    Column("role", String, nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("name", String, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    # Added after the table (nullable, so create_tables adds them to an older store).
    Column("expires_at", DateTime(timezone=True)),
    Column("last_used_at", DateTime(timezone=True)),
)
# How often a token's last use is written, at most, per process: a read then
# writes once a minute per token rather than on every request.
LAST_USED_EVERY = 60.0
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Principal:
    token_id: str
    role: str
    name: str
    scopes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def recorded_by(self) -> str:
        return f"{self.role}:{self.name}"

    def scoped(self, kind: str) -> list[str]:
        """The ids of this principal's `kind:ID` scopes."""
        return [s.partition(":")[2] for s in self.scopes if s.partition(":")[0] == kind]


@dataclass(frozen=True)
class TokenInfo:
    """What `mastery token list` shows of a token: never its secret or hash."""

    token_id: str
    name: str
    role: str
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _as_utc(t: datetime) -> datetime:
    # SQLite hands DateTime(timezone=True) back naive (what is stored here is
    # UTC); PostgreSQL in the session's time zone.
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _utc(t: datetime | None) -> datetime | None:
    return None if t is None else _as_utc(t)


class TokenStore:
    def __init__(self, engine: Engine, bootstrap_token: str | None = None) -> None:
        self.engine = engine
        self.bootstrap_token = bootstrap_token
        self._lock = threading.Lock()
        self._written: dict[str, float] = {}  # token id -> when its last use was written (monotonic)
        self._writer: ThreadPoolExecutor | None = None

    def create(
        self,
        role: str,
        scopes: list[str],
        name: str,
        token: str | None = None,
        expires_in: timedelta | None = None,
    ) -> str:
        """Store a new token's hash and return the token, which is shown once.

        `token` lets the demo mint reproducible tokens; everything else lets
        the secret be drawn here. `expires_in`: from now; None never expires.
        """
        check_scopes(role, scopes)
        token = token or "ml_" + secrets.token_urlsafe(32)
        now = datetime.now(UTC)
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
                        created_at=now,
                        expires_at=now + expires_in if expires_in is not None else None,
                    )
                )
        return token

    def revoke(self, token_or_id: str) -> bool:
        """Revoke by token id or by the token itself; False when neither names
        a token that is not revoked yet."""
        with self.engine.begin() as conn:
            res = conn.execute(
                update(auth_tokens)
                .where(
                    or_(
                        auth_tokens.c.token_id == token_or_id,
                        auth_tokens.c.token_hash == _hash(token_or_id),
                    ),
                    auth_tokens.c.revoked_at.is_(None),
                )
                .values(revoked_at=datetime.now(UTC))
            )
            return bool(res.rowcount)

    def list(self) -> list[TokenInfo]:
        t = auth_tokens.c
        q = select(
            t.token_id, t.name, t.role, t.scopes, t.created_at, t.expires_at, t.last_used_at, t.revoked_at
        ).order_by(t.created_at, t.token_id)
        with self.engine.connect() as conn:
            return [
                TokenInfo(tid, name, role, tuple(scopes), _as_utc(created), *map(_utc, rest))
                for tid, name, role, scopes, created, *rest in conn.execute(q)
            ]

    def authenticate(self, token: str) -> Principal | None:
        """The table is read on every call, so a token revoked or expired is
        refused at once by every process; its last use is written at most
        once a minute per token (`LAST_USED_EVERY`), not on every read, and
        by a thread of its own (`_note_use`)."""
        # Bytes: compare_digest refuses a str with non-ASCII characters (a TypeError,
        # so a 500), and a header may carry any byte (read as latin-1).
        if self.bootstrap_token and hmac.compare_digest(token.encode(), self.bootstrap_token.encode()):
            return Principal("bootstrap", "admin", "bootstrap")
        t = auth_tokens.c
        q = select(t.token_id, t.role, t.name, t.scopes, t.revoked_at, t.expires_at).where(
            t.token_hash == _hash(token)
        )
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        if row is None or row.revoked_at is not None:
            return None
        now = datetime.now(UTC)
        expires = _utc(row.expires_at)
        if expires is not None and expires <= now:
            return None
        self._note_use(row.token_id, now)
        return Principal(row.token_id, row.role, row.name, tuple(row.scopes))

    def _note_use(self, token_id: str, now: datetime) -> None:
        """Write the token's last use, at most once per LAST_USED_EVERY and
        off the request's thread: the write waits for the store's write lock
        (SQLite's is held by each projection batch), a read must not."""
        tick = time.monotonic()
        with self._lock:
            last = self._written.get(token_id)
            if last is not None and tick - last < LAST_USED_EVERY:
                return
            self._written[token_id] = tick
            if self._writer is None:
                self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="token-last-use")
            self._writer.submit(self._write_use, token_id, now)

    def _write_use(self, token_id: str, now: datetime) -> None:
        stmt = update(auth_tokens).where(auth_tokens.c.token_id == token_id).values(last_used_at=now)
        try:
            with self.engine.begin() as conn:
                conn.execute(stmt)
        except DBAPIError as e:
            # Bookkeeping: a store that does not take the write now is asked
            # again at the token's next use.
            with self._lock:
                self._written.pop(token_id, None)
            log.warning("could not record the last use of token %s: %s", token_id, str(e).splitlines()[0])

    def flush(self) -> None:
        """Wait until every last use noted so far is written."""
        with self._lock:
            writer = self._writer
        if writer is not None:
            writer.submit(lambda: None).result()

    def close(self) -> None:
        with self._lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            writer.shutdown(wait=True)
