"""Stable pseudonyms for student ids: HMAC-SHA256 under a per-deployment secret.

The secret is drawn once and kept in the read database, so every export of a
deployment (HTTP or CLI, any process) maps a student to the same pseudonym,
and nobody without the database can map a pseudonym back to a student.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import Column, Engine, String, Table, select
from sqlalchemy.exc import DBAPIError

from infra.bulk import insert_ignore
from infra.readstore import metadata

export_secrets = Table(
    "export_secrets",
    metadata,
    Column("name", String, primary_key=True),
    Column("secret", String, nullable=False),
)

_NAME = "student_pseudonym"


def pseudonym_secret(engine: Engine) -> bytes:
    """The deployment's secret, created by whichever process asks first."""
    for attempt in range(2):
        try:
            export_secrets.create(engine, checkfirst=True)
            break
        except DBAPIError:
            # Two processes creating the table at once: the loser sees it exist on retry.
            if attempt:
                raise
    with engine.begin() as conn:
        insert_ignore(conn, export_secrets, [{"name": _NAME, "secret": secrets.token_hex(32)}])
        secret = conn.execute(select(export_secrets.c.secret).where(export_secrets.c.name == _NAME)).scalar()
    assert secret is not None
    return bytes.fromhex(secret)


class Pseudonymiser:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def __call__(self, student_id: str) -> str:
        # 128 bits of the MAC: collisions are out of reach for any district.
        digest = hmac.new(self._secret, student_id.encode(), hashlib.sha256).hexdigest()
        return "p-" + digest[:32]
