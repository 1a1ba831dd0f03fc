"""Sealing personal data under a student's key (AES-256-GCM, `cryptography`).

Each student has one random 256-bit key in the trust store (infra/keys.py).
Two keys are derived from it with HKDF-SHA256, one per purpose, so that no key
serves two: one seals personal data, one keys the idempotency hash of the
student's event bodies (a plain hash of a body would let anyone holding the
event index confirm a guessed text after the erasure; an HMAC under a key
that is destroyed with the student's cannot be checked by anyone).

A seal is `"A1." + base64url(nonce || ciphertext || tag)`, with a random
96-bit nonce and, as associated data, what the seal belongs to (the student
and the event or field): a seal copied onto another event does not open.
"""

from __future__ import annotations

import base64
import hmac
import os
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["ERASED", "SEAL_PREFIX", "SealBroken", "StudentKey"]

SEAL_PREFIX = "A1."
ERASED = "[erased]"  # what readers show where a seal can no longer be opened
_NONCE = 12


class SealBroken(Exception):
    """A seal that does not open under its student's key: altered, or moved."""


def _derive(key: bytes, purpose: bytes) -> bytes:
    """HKDF-Expand (RFC 5869, SHA-256, one 32-byte block) with the student's
    key as the pseudorandom key: it is 256 uniformly random bits, so the
    Extract step adds nothing (RFC 5869 §3.3). One HMAC in C: ingest derives
    two keys for every student of a batch (cryptography's HKDF object cost 6 µs)."""
    return hmac.digest(key, purpose + b"\x01", "sha256")


@dataclass(frozen=True)
class StudentKey:
    student_id: str
    key: bytes

    @cached_property
    def _aead(self) -> AESGCM:
        return AESGCM(_derive(self.key, b"mastery-ledger personal data v1"))

    @cached_property
    def _hash_key(self) -> bytes:
        return _derive(self.key, b"mastery-ledger body hash v1")

    def _aad(self, context: str) -> bytes:
        return f"{self.student_id}\x00{context}".encode()

    def seal(self, value: Any, context: str) -> str:
        """`value` (anything JSON holds) sealed for `context` (an event id, "name")."""
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, orjson.dumps(value), self._aad(context))
        return SEAL_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, seal: str, context: str) -> Any:
        if not seal.startswith(SEAL_PREFIX):
            raise SealBroken("not a seal")
        try:
            raw = base64.urlsafe_b64decode(seal[len(SEAL_PREFIX) :])
            plain = self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], self._aad(context))
        except (InvalidTag, ValueError) as e:
            raise SealBroken(f"the seal does not open for {context!r}") from e
        return orjson.loads(plain)

    def body_hash(self, canonical: bytes) -> str:
        """The idempotency hash of an event body (its canonical JSON)."""
        return hmac.digest(self._hash_key, canonical, "sha256").hex()
