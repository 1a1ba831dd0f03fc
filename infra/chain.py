"""The hash chain of the event log: each stream's events linked by HMAC-SHA256.

The chain value of event (stream, version) is

    HMAC-SHA256(key, previous || stream id (16 bytes) || version (8 bytes, big-endian)
                     || topic length (4 bytes, big-endian) || topic (UTF-8) || state)

where `previous` is the chain value of the stream's previous event (32 zero
bytes before its first) and `state` the bytes as stored. It covers the
event's content, its position and everything before it in its stream: an
altered byte, a deleted or inserted event, two events swapped all break the
chain at the first event they touch. Without the key (the trust store's
`CHAIN_KEY`, never in the event store) no one can compute a chain value, so
no one can repair the chain after a change.

Pure: the recorders compute the values as they write, and `mastery verify`
and the replays check them with the same functions.
"""

from __future__ import annotations

import hmac
import struct
from collections.abc import Sequence
from typing import NamedTuple
from uuid import UUID

GENESIS = bytes(32)  # the `previous` of a stream's first event
_POSITION = struct.Struct(">QI")  # version, topic length


class ChainedRow(NamedTuple):
    """One row of the log as the chain sees it. `chain` is None where a row
    holds none (a row written before the chain existed and not sealed, or
    one whose value was removed)."""

    stream: UUID
    version: int
    topic: str
    state: bytes
    chain: bytes | None


def link(key: bytes, previous: bytes, stream: UUID, version: int, topic: str, state: bytes) -> bytes:
    """The chain value of one event, given its stream's previous value."""
    name = topic.encode()
    message = b"".join((previous, stream.bytes, _POSITION.pack(version, len(name)), name, state))
    return hmac.digest(key, message, "sha256")


class Break(NamedTuple):
    """Where and how a stream fails verification. `version` is the first
    version that does not verify (for a missing tail, the one after the
    stream's last); `kind` one of `altered`, `missing`, `reordered`."""

    stream: UUID
    version: int
    kind: str
    detail: str


def first_mismatch(key: bytes, rows: Sequence[ChainedRow], previous: bytes = GENESIS) -> int | None:
    """The index in `rows` (one stream's rows, in version order, from its first
    or from the row after the one whose value is `previous`) of the first row
    whose chain value is not the one computed, or None when all are."""
    for i, row in enumerate(rows):
        expected = link(key, previous, row.stream, row.version, row.topic, row.state)
        if row.chain is None or not hmac.compare_digest(expected, row.chain):
            return i
        previous = expected
    return None


def diagnose(key: bytes, rows: Sequence[ChainedRow], at: int) -> Break:
    """What happened at `rows[at]`, the first row of a whole stream (`rows`,
    in version order, from its first) whose chain value does not match.

    A version skipped before it: events missing. Otherwise its content may
    have moved: the event written at this version found at another (or the
    one found here written at another), reordered. Otherwise altered (its
    content or its chain value changed, or an event inserted).
    """
    row = rows[at]
    previous = rows[at - 1].chain if at else GENESIS
    expected_version = rows[at - 1].version + 1 if at else 1
    if row.version > expected_version:
        first, last = expected_version, row.version - 1
        which = f"version {first}" if first == last else f"versions {first} to {last}"
        return Break(
            row.stream, first, "missing", f"{which} of the stream are gone (it goes on at {row.version})"
        )
    if row.chain is None:
        return Break(row.stream, row.version, "altered", "the event holds no chain value (removed)")
    assert previous is not None  # the rows before `at` verified, so each holds its value
    # Swapped or moved: where the content written at this version went, and
    # where the content found here was written. Each costs one HMAC per row,
    # and only once a stream has already failed.
    moved_to = next(
        (o.version for o in rows if o is not row and _fits(key, previous, row, o, row.chain)), None
    )
    came_from = next(
        (
            o.version
            for i, o in enumerate(rows)
            if o is not row and _fits(key, rows[i - 1].chain if i else GENESIS, o, row, o.chain)
        ),
        None,
    )
    if moved_to is None and came_from is None:
        return Break(row.stream, row.version, "altered", "its content does not match its chain value")
    parts = []
    if came_from is not None:
        parts.append(f"it holds the event written as version {came_from}")
    if moved_to is not None:
        parts.append(f"the event written as version {row.version} is at version {moved_to}")
    return Break(row.stream, row.version, "reordered", "; ".join(parts))


def _fits(
    key: bytes, previous: bytes | None, position: ChainedRow, content: ChainedRow, value: bytes | None
) -> bool:
    """Whether `content`'s topic and state at `position`'s place, after
    `previous`, give `value`."""
    if previous is None or value is None:
        return False
    computed = link(key, previous, position.stream, position.version, content.topic, content.state)
    return hmac.compare_digest(computed, value)


def seal(key: bytes, rows: Sequence[ChainedRow]) -> list[tuple[int, bytes]]:
    """Chain values for the rows of one whole stream (in version order) that
    hold none, chained through those that do: (version, value) for each."""
    previous = GENESIS
    out = []
    for row in rows:
        value = row.chain
        if value is None:
            value = link(key, previous, row.stream, row.version, row.topic, row.state)
            out.append((row.version, value))
        previous = value
    return out
