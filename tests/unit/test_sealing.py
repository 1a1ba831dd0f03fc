"""Sealing personal data (infra/sealing.py): what opens, what does not."""

from __future__ import annotations

import secrets

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from infra.sealing import SEAL_PREFIX, SealBroken, StudentKey, _derive

KEY = bytes(range(32))


def test_a_seal_opens_for_its_student_and_context_only() -> None:
    key = StudentKey("s1", KEY)
    seal = key.seal({"text": "I mixed up the signs", "n": [1, 2.5, None]}, "event-1")
    assert seal.startswith(SEAL_PREFIX) and "signs" not in seal
    assert key.open(seal, "event-1") == {"text": "I mixed up the signs", "n": [1, 2.5, None]}
    for other, context in ((key, "event-2"), (StudentKey("s2", KEY), "event-1")):
        with pytest.raises(SealBroken):
            other.open(seal, context)  # moved to another event or student
    with pytest.raises(SealBroken):
        StudentKey("s1", secrets.token_bytes(32)).open(seal, "event-1")  # another key
    flipped = seal[:-5] + ("A" if seal[-5] != "A" else "B") + seal[-4:]
    with pytest.raises(SealBroken):
        key.open(flipped, "event-1")  # altered
    with pytest.raises(SealBroken):
        key.open("not a seal", "event-1")


def test_each_seal_draws_its_own_nonce() -> None:
    key = StudentKey("s1", KEY)
    assert key.seal("same", "name") != key.seal("same", "name")


def test_keys_are_derived_by_hkdf_expand_per_purpose() -> None:
    expand = HKDFExpand(algorithm=hashes.SHA256(), length=32, info=b"purpose")
    assert _derive(KEY, b"purpose") == expand.derive(KEY)
    assert _derive(KEY, b"one") != _derive(KEY, b"other")


def test_the_body_hash_is_keyed_by_the_student() -> None:
    body = b'{"event_id":"e1","text":"a guess"}'
    assert StudentKey("s1", KEY).body_hash(body) == StudentKey("s1", KEY).body_hash(body)
    assert StudentKey("s1", KEY).body_hash(body) != StudentKey("s1", secrets.token_bytes(32)).body_hash(body)
