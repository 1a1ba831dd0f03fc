"""The hash chain's values (infra/chain.py): the layout the docs promise, every
input covered, and what a broken stream is diagnosed as."""

from __future__ import annotations

import hashlib
import hmac
from uuid import UUID

import pytest

from infra.chain import GENESIS, ChainedRow, diagnose, first_mismatch, link, seal

KEY = bytes(range(32))
STREAM = UUID("6f1d4c1e-5b0a-4c8e-9a57-3c2f0e6b9d10")
TOPIC = "domain.learner:Learner.AttemptRecorded"


def _stream(states: list[bytes], key: bytes = KEY) -> list[ChainedRow]:
    rows, previous = [], GENESIS
    for version, state in enumerate(states, start=1):
        previous = link(key, previous, STREAM, version, TOPIC, state)
        rows.append(ChainedRow(STREAM, version, TOPIC, state, previous))
    return rows


def test_the_value_is_the_documented_hmac() -> None:
    previous = bytes([7]) * 32
    message = (
        previous
        + STREAM.bytes
        + (3).to_bytes(8, "big")
        + len(TOPIC.encode()).to_bytes(4, "big")
        + TOPIC.encode()
        + b'{"x":1}'
    )
    assert (
        link(KEY, previous, STREAM, 3, TOPIC, b'{"x":1}') == hmac.new(KEY, message, hashlib.sha256).digest()
    )
    assert bytes(32) == GENESIS


def test_every_input_changes_the_value() -> None:
    base = (KEY, GENESIS, STREAM, 2, "t:A", b"state")
    value = link(*base)
    variants = [
        (bytes(32), *base[1:]),
        (KEY, b"\x01" * 32, *base[2:]),
        (KEY, GENESIS, UUID(int=STREAM.int ^ 1), *base[3:]),
        (KEY, GENESIS, STREAM, 3, *base[4:]),
        (KEY, GENESIS, STREAM, 2, "t:B", b"state"),
        (KEY, GENESIS, STREAM, 2, "t:A", b"statf"),
    ]
    assert all(link(*v) != value for v in variants)
    # The topic's length is part of it: a byte cannot move from topic to state unseen.
    assert link(KEY, GENESIS, STREAM, 1, "t:Ab", b"c") != link(KEY, GENESIS, STREAM, 1, "t:A", b"bc")


def test_a_whole_chain_verifies_and_each_change_is_found_where_it_is() -> None:
    rows = _stream([b"a", b"b", b"c", b"d"])
    assert first_mismatch(KEY, rows) is None
    assert first_mismatch(bytes(32), rows) == 0  # another key verifies nothing
    altered = [*rows[:2], rows[2]._replace(state=b"C"), rows[3]]
    assert first_mismatch(KEY, altered) == 2
    assert diagnose(KEY, altered, 2)[:3] == (STREAM, 3, "altered")
    # From the middle of a stream, given the previous row's value.
    assert first_mismatch(KEY, rows[2:], rows[1].chain or GENESIS) is None


@pytest.mark.parametrize("gone", [0, 1, 2])
def test_a_deleted_event_is_missing_at_its_version(gone: int) -> None:
    rows = _stream([b"a", b"b", b"c", b"d"])
    kept = rows[:gone] + rows[gone + 1 :]
    at = first_mismatch(KEY, kept)
    assert at == gone
    found = diagnose(KEY, kept, gone)
    assert (found.version, found.kind) == (gone + 1, "missing")
    assert f"version {gone + 1}" in found.detail


def test_swapped_contents_are_reordered_both_ways() -> None:
    rows = _stream([b"a", b"b", b"c", b"d"])
    swapped = [rows[0], rows[1]._replace(state=b"c"), rows[2]._replace(state=b"b"), rows[3]]
    found = diagnose(KEY, swapped, first_mismatch(KEY, swapped) or 0)
    assert (found.version, found.kind) == (2, "reordered")
    assert "written as version 3" in found.detail and "is at version 3" in found.detail


def test_a_removed_value_is_altered_not_trusted() -> None:
    rows = _stream([b"a", b"b"])
    removed = [rows[0], rows[1]._replace(chain=None)]
    assert first_mismatch(KEY, removed) == 1
    assert diagnose(KEY, removed, 1).kind == "altered"


def test_seal_fills_the_rows_without_a_value_and_chains_through_the_others() -> None:
    rows = _stream([b"a", b"b", b"c"])
    legacy = [r._replace(chain=None) for r in rows]
    assert seal(KEY, legacy) == [(r.version, r.chain) for r in rows]
    tail_missing = [rows[0], rows[1]._replace(chain=None), rows[2]._replace(chain=None)]
    assert seal(KEY, tail_missing) == [(2, rows[1].chain), (3, rows[2].chain)]
    assert seal(KEY, rows) == []
