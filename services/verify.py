"""Checks the event log against its hash chains (infra/chain.py) and the event
index: `mastery verify`, and the replays, which refuse to present a stream
that fails (`verified_events`).

The chain proves every stored event of a stream unchanged, in its place, and
none missing before the stream's last. It cannot see the last events of a
stream deleted: what remains is a valid chain. For learning events the
event index (one row per learning event, written in the same transaction)
is the witness: a student whose stream holds fewer learning events than the
index names has lost some, wherever they stood. docs/security.md says what
this proves and what it cannot.
"""

from __future__ import annotations

import bisect
import hmac
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from domain.ids import learner_stream, profile_stream
from domain.learner import LEARNING_EVENT_CLASSES
from infra.chain import GENESIS, Break, ChainedRow, diagnose, first_mismatch, link
from infra.eventstore import LedgerStore
from infra.recorders import END_OF_STREAMS, FIRST_STREAM, StreamRange

PAGE = 10_000  # rows a read of the log brings back

Progress = Callable[[int, int], None]  # events checked, events to check


def student_streams(student_id: str) -> list[UUID]:
    """Every stream that holds a student's records: what `verify --student` checks."""
    return [profile_stream(student_id), learner_stream(student_id)]


@dataclass(frozen=True)
class Found:
    """A break, named for people: where, what, and the event's id where the
    stored state still decodes (or the index names the missing one)."""

    stream: UUID
    version: int
    kind: str  # altered, missing, reordered
    detail: str
    event_id: str | None = None
    student_id: str | None = None

    def __str__(self) -> str:
        student = f" (student {self.student_id})" if self.student_id else ""
        event = f" (event_id {self.event_id})" if self.event_id else ""
        return f"stream {self.stream}{student} version {self.version}{event}: {self.kind}: {self.detail}"


class StreamBroken(Exception):
    """A stream fails verification: what it holds is not what was written."""

    def __init__(self, found: Found) -> None:
        super().__init__(str(found))
        self.found = found


class UnknownStudent(LookupError):
    """Neither the log nor the event index holds anything of this student."""


@dataclass(frozen=True)
class Report:
    events: int
    streams: int
    students: int  # whose learning events were counted against the event index
    upto: int  # the log position checked up to
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / max(self.seconds, 1e-9)


def verified_events(store: LedgerStore, stream: UUID) -> list[Any]:
    """A whole stream's domain events, once its chain verifies; StreamBroken
    naming the first event that does not. (Its last events deleted cannot
    be seen here: `mastery verify` cross-checks the event index.)"""
    recorder = store.indexed
    rows = recorder.select_stream_chained(stream)
    at = first_mismatch(recorder.key, rows)
    if at is not None:
        raise StreamBroken(_named(store, diagnose(recorder.key, rows, at), rows))
    decode = store.mapper.to_domain_event
    return [decode(StoredEvent(stream, r.version, r.topic, r.state)) for r in rows]


class Verifier:
    def __init__(self, store: LedgerStore, progress: Progress | None = None, page: int | None = None) -> None:
        self.store = store
        self.recorder = store.indexed
        self.progress = progress or (lambda _done, _total: None)
        self.page = page or PAGE
        # The topics of the events the index has a row for. A stream whose count of
        # these falls short of the index is decoded to make sure (`_check_index`),
        # and a topic found indexed there is learned: renamed classes cost time, never a false break.
        self.indexed_topics = {get_topic(cls) for cls in LEARNING_EVENT_CLASSES.values()}

    def verify_all(self) -> Report:
        """Every stream of the log, up to its position at the start."""
        upto, counts = self.recorder.index_snapshot()
        return self._walk([(FIRST_STREAM, END_OF_STREAMS)], upto, counts, upto)

    def verify_student(self, student_id: str) -> Report:
        """The student's streams (`student_streams`); UnknownStudent when none
        holds an event and the event index holds none of the student's."""
        streams = student_streams(student_id)
        upto, counts = self.recorder.index_snapshot(student_id)
        heads = self.recorder.select_heads(streams)
        if not heads and not counts:
            raise UnknownStudent(student_id)
        ranges = [(s, UUID(int=s.int + 1)) for s in sorted(streams)]
        return self._walk(ranges, upto, counts, sum(heads.values()))

    def _walk(self, ranges: Sequence[StreamRange], upto: int, counts: dict[str, int], total: int) -> Report:
        started = time.perf_counter()
        # The learner streams the index names, in the order the walk meets them.
        indexed = {learner_stream(sid): (sid, n) for sid, n in counts.items()}
        awaited = sorted(indexed)
        events = streams = 0
        key = self.recorder.key
        for first, end in ranges:
            after = (first, -1)
            stream: UUID | None = None
            previous, learning = GENESIS, 0
            while rows := self.recorder.select_chained(after, end, upto, self.page):
                for row in rows:
                    if row.stream != stream:
                        if stream is not None:
                            self._close(stream, learning, indexed)
                        awaited = self._passed(row.stream, awaited, indexed)
                        stream, previous, learning = row.stream, GENESIS, 0
                        streams += 1
                    expected = link(key, previous, row.stream, row.version, row.topic, row.state)
                    if row.chain is None or not hmac.compare_digest(row.chain, expected):
                        self._broken(row, indexed)
                    previous = expected
                    learning += row.topic in self.indexed_topics
                events += len(rows)
                after = (rows[-1].stream, rows[-1].version)
                self.progress(events, max(total, events))
            if stream is not None:
                self._close(stream, learning, indexed)
            awaited = self._passed(end, awaited, indexed)
        return Report(events, streams, len(counts), upto, time.perf_counter() - started)

    def _passed(self, stream: UUID, awaited: list[UUID], indexed: dict[UUID, tuple[str, int]]) -> list[UUID]:
        """The awaited streams from `stream` on; one before it that the walk
        never met is gone from the log, though the index names its events."""
        passed = bisect.bisect_left(awaited, stream)
        for lost in awaited[:passed]:  # never met
            self._check_index(lost, indexed[lost][0])
        if passed < len(awaited) and awaited[passed] == stream:
            passed += 1  # met: its count is checked as it closes
        return awaited[passed:]

    def _close(self, stream: UUID, learning: int, indexed: dict[UUID, tuple[str, int]]) -> None:
        if stream in indexed and learning < indexed[stream][1]:
            self._check_index(stream, indexed[stream][0])

    def _check_index(self, stream: UUID, student_id: str) -> None:
        """The stream holds fewer events of the indexed topics than the index
        names for the student: decode it, whole, beside the index's ids (one
        snapshot), and say which are gone, if any."""
        rows, index_ids = self.recorder.student_snapshot(stream, student_id)
        held = dict(self._event_ids(rows))
        named = set(index_ids)
        gone = sorted(named - set(held))
        if not gone:
            # Indexed events under topics not known here (renamed, versioned): learn them.
            self.indexed_topics |= {topic for event_id, topic in held.items() if event_id in named}
            return
        head = rows[-1].version if rows else 0
        at = first_mismatch(self.recorder.key, rows)
        if at is not None:  # a gap or a change since the walk read it: name that
            raise StreamBroken(
                _named(self.store, diagnose(self.recorder.key, rows, at), rows, gone, student_id)
            )
        where = f"the stream ends at version {head}" if rows else "the stream is gone"
        detail = f"{where}, but the event index names {len(gone)} learning event(s) of the student it lacks"
        raise StreamBroken(Found(stream, head + 1, "missing", detail, gone[0], student_id))

    def _broken(self, failed: ChainedRow, indexed: dict[UUID, tuple[str, int]]) -> None:
        """Read the stream whole to name its first break (and, for events
        missing from a student's learning stream, the index's ids it lacks),
        then raise it."""
        stream = failed.stream
        student_id = indexed[stream][0] if stream in indexed else None
        index_ids: list[str] = []
        if student_id is None:
            rows = self.recorder.select_stream_chained(stream)
        else:
            rows, index_ids = self.recorder.student_snapshot(stream, student_id)
        at = first_mismatch(self.recorder.key, rows)
        if at is None:
            detail = "it did not verify as read, and does when read again: changed during the check"
            raise StreamBroken(Found(stream, failed.version, "altered", detail, None, student_id))
        found = diagnose(self.recorder.key, rows, at)
        gone = None
        if found.kind == "missing" and student_id is not None:
            gone = sorted(set(index_ids) - {event_id for event_id, _ in self._event_ids(rows)})
        raise StreamBroken(_named(self.store, found, rows, gone, student_id))

    def _event_ids(self, rows: Iterable[ChainedRow]) -> Iterable[tuple[str, str]]:
        for row in rows:
            event_id = _event_id(self.store, row)
            if event_id is not None:
                yield event_id, row.topic


def _named(
    store: LedgerStore,
    found: Break,
    rows: Sequence[ChainedRow],
    gone: Sequence[str] | None = None,
    student_id: str | None = None,
) -> Found:
    """A break with the id of the event at its version, where its state still
    decodes; for events missing, the index's ids the stream lacks, if known."""
    detail = found.detail
    if found.kind == "missing":
        event_id = gone[0] if gone else None
        if gone and len(gone) > 1:
            detail += f"; the event index names {len(gone)} events of the student the stream lacks"
    else:
        row = next((r for r in rows if r.version == found.version), None)
        event_id = _event_id(store, row) if row is not None else None
    return Found(found.stream, found.version, found.kind, detail, event_id, student_id)


def _event_id(store: LedgerStore, row: ChainedRow) -> str | None:
    try:
        event = store.mapper.to_domain_event(StoredEvent(row.stream, row.version, row.topic, row.state))
    except Exception:  # altered bytes may fail anywhere in decoding: then there is no id to name
        return None
    event_id = getattr(event, "event_id", None)
    return event_id if isinstance(event_id, str) else None
