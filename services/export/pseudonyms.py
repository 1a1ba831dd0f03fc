"""Stable pseudonyms for student ids: HMAC-SHA256 under a per-deployment secret.

The secret is drawn once and kept in the trust store (infra/trust.py), so every
export of a deployment (HTTP or CLI, any process, any year) maps a student to
the same pseudonym, and nobody without the trust store can map a pseudonym
back to a student.
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import Engine

from infra.trust import PSEUDONYM_KEY, secret


def pseudonym_secret(trust: Engine) -> bytes:
    return secret(trust, PSEUDONYM_KEY)


class Pseudonymiser:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def __call__(self, student_id: str) -> str:
        # 128 bits of the MAC: collisions are out of reach for any district.
        digest = hmac.new(self._secret, student_id.encode(), hashlib.sha256).hexdigest()
        return "p-" + digest[:32]
