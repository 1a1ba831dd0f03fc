"""The recorders of the event store: the `eventsourcing` library's own for
SQLite and PostgreSQL, extended with one table, `event_index`, written in the
same transaction as the events it indexes. It makes `event_id` idempotency and
reference checks a single indexed lookup, and its primary key is the guard
against two requests storing the same event id at once.

For batches of learning events the recorders add `select_for_batch` (stream
heads and index rows in one round trip) and `append_batch` (events and index
rows in one transaction; on PostgreSQL by binary COPY under the library's
table lock). For a rebuild they add `select_by_stream`, the log read in
(stream, version) order.

Every write path also fills the column `chain` the recorders add to the
library's events table: each event's link in its stream's hash chain
(infra/chain.py), computed under the log's write lock from the heads read
there. `mastery verify` reads it back through `select_chained` and the
snapshots below.

This module holds what both dialects share; the recorders themselves are in
infra/recorders_sqlite.py and infra/recorders_postgres.py.
"""

from __future__ import annotations

import itertools
from abc import abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.persistence import AggregateRecorder, StoredEvent

from infra.chain import GENESIS, ChainedRow, link

_CHUNK = 900  # stays under SQLite's bound-parameter limit on old builds
SEAL_PAGE = 1_000  # legacy rows sealed per transaction (see `seal_unchained`)
StreamKey = tuple[UUID, int]  # (stream id, version): the log's primary key
StreamRange = tuple[UUID, UUID]  # stream ids from (inclusive), to (exclusive)
FIRST_STREAM = UUID(int=0)
# Past every stream id: ids are UUIDv5 (domain/ids.py), whose version bits are never all ones.
END_OF_STREAMS = UUID(int=2**128 - 1)


# On PostgreSQL, how long a writer waits for the log's lock, and how long a
# statement of a transaction holding it may run on the server (milliseconds).
# Writes hold the lock for milliseconds, a 16 MiB batch for under a second;
# past these bounds the writer answers "busy" and stores nothing, instead of
# every later write queueing behind a stuck one. (Neither bound ends a client
# that stalls while sending a statement: the server waits for it as long as
# the connection lives. Hence everything is encoded before the lock is taken
# and nothing is sent through a pipeline: see `insert_events`. The chain
# values are the one thing computed under it, from the heads read there:
# hashing, which waits on nothing.)
LOG_LOCK_WAIT_MS = 10_000
LOG_WRITE_TIMEOUT_MS = 30_000


class LogBusy(Exception):
    """The log's write lock could not be had, or a write holding it did not
    finish, within the bounds above: the write stored nothing; try again."""


def stream_ranges(parts: int) -> list[StreamRange]:
    """The stream-id space cut in `parts` equal ranges (UUIDv5 ids spread evenly)."""
    bounds = [UUID(int=(2**128 - 1) * i // parts) for i in range(parts)] + [END_OF_STREAMS]
    return list(itertools.pairwise(bounds))


class IndexRow(NamedTuple):
    """One row of `event_index`, in its column order."""

    event_id: str
    student_id: str
    record_type: str
    objective_id: str | None
    body_hash: str


def at_heads(stored_events: Sequence[StoredEvent], heads: dict[UUID, int]) -> list[StoredEvent]:
    """The events numbered on from their streams' heads, in batch order.

    A batch is checked against the heads it read, but its versions are taken
    here, inside the appending transaction that holds the log's write lock:
    a writer that appended to the same students since the check has committed
    by then, so concurrent batches for one class queue instead of colliding
    on (stream, version) and retrying until they give up. Only the order of a
    stream's versions means anything, and the batch keeps it.
    """
    following: dict[UUID, int] = {}
    out = []
    for e in stored_events:
        stream = e.originator_id
        assert isinstance(stream, UUID)
        v = following[stream] = following.get(stream, heads.get(stream, 0)) + 1
        out.append(e if v == e.originator_version else StoredEvent(stream, v, e.topic, e.state))
    return out


def streams_of(stored_events: Sequence[StoredEvent]) -> list[UUID]:
    return list(dict.fromkeys(e.originator_id for e in stored_events if isinstance(e.originator_id, UUID)))


def chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


class WholeStreamReads(AggregateRecorder):
    """A whole stream read with the columns it needs and one stream UUID for
    all its rows (an audit replay reads 5,000 events through here); any
    other selection goes to the library's own query. Put before the
    library's recorder in the bases."""

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        if gt is not None or lte is not None or desc or limit is not None:
            # The library's concrete recorder, which follows this class in both recorders' bases.
            return super().select_events(  # type: ignore[safe-super]
                originator_id, gt=gt, lte=lte, desc=desc, limit=limit
            )
        return self._select_stream_events(originator_id)

    @abstractmethod
    def _select_stream_events(self, originator_id: UUID | str) -> list[StoredEvent]: ...


Head = tuple[int, bytes | None]  # a stream's last version and its chain value


class ChainKeyMissing(RuntimeError):
    """A write reached a recorder that was given no chain key: it would store
    events no one could verify, so it stores nothing."""


class ChainedLog:
    """What both recorders share for the hash chain: the key (given by
    `infra.eventstore.open_event_store` before any write), the values of a
    batch from its streams' heads, and the reads `mastery verify` and the
    replays check. Put first in the recorders' bases."""

    chain_key: bytes | None = None

    @property
    def key(self) -> bytes:
        if self.chain_key is None:
            raise ChainKeyMissing("the event store has no chain key: open it with open_event_store")
        return self.chain_key

    def chain_values(self, stored_events: Sequence[StoredEvent], heads: Mapping[UUID, Head]) -> list[bytes]:
        """Each event's chain value, in batch order, from its stream's head
        (read under the log's lock) or the batch's previous event of that
        stream. A head without a value (a row written by a process of a
        version before the chain, or one whose value was removed) is chained
        from nothing, as a first event: `verify` names that row, and no
        writer ever computes a value over a row it cannot vouch for."""
        key = self.key
        last = {stream: value or GENESIS for stream, (_, value) in heads.items()}
        out = []
        for e in stored_events:
            stream = e.originator_id
            assert isinstance(stream, UUID)
            value = last[stream] = link(
                key, last.get(stream, GENESIS), stream, e.originator_version, e.topic, e.state
            )
            out.append(value)
        return out

    def chained(
        self, stored_events: Sequence[StoredEvent], heads: Mapping[UUID, Head]
    ) -> tuple[list[StoredEvent], list[bytes]]:
        """A batch numbered on from `heads` (`at_heads`) and its chain values."""
        events = at_heads(stored_events, {stream: version for stream, (version, _) in heads.items()})
        return events, self.chain_values(events, heads)

    @abstractmethod
    def select_chained(self, after: StreamKey, before: UUID, upto: int, limit: int) -> list[ChainedRow]:
        """A page of the log up to position `upto`, in (stream, version) order,
        after `after` and before stream `before`, with each row's chain value."""

    @abstractmethod
    def select_stream_chained(self, stream: UUID) -> list[ChainedRow]:
        """The whole of one stream, in version order, with its chain values."""

    @abstractmethod
    def index_snapshot(self, student_id: str | None = None) -> tuple[int, dict[str, int]]:
        """The log's position and the event index's row count of every student
        (or of one), read in one snapshot: the counts are those of the
        learning events at or below that position."""

    @abstractmethod
    def student_snapshot(self, stream: UUID, student_id: str) -> tuple[list[ChainedRow], list[str]]:
        """One stream whole and the event ids the index holds for a student, in one snapshot."""

    @abstractmethod
    def seal_unchained(self) -> int:
        """Give chain values to the rows a store written before the chain holds
        (the upgrade that added the column marks them); how many were sealed."""
