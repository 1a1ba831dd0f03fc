"""Apply the events a projection set aside again, after a fix (`mastery projections retry`).

Stream by stream, in the order their first event was set aside, each
stream's events in stream order: those that now apply leave the table; one
that fails again stays with one more attempt and its newest error, and the
later events of its stream stay held behind it. Each stream is one
transaction that first takes the projection's tracking lock, as a live batch
does, so a retry is safe while the live runner runs: they take turns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

from eventsourcing.persistence import Notification
from sqlalchemy import Engine

from infra.eventstore import LedgerStore
from infra.recorders import END_OF_STREAMS
from infra.tracking import lock_every_source
from services.projections.base import Projection
from services.projections.batch import dispatch
from services.projections.isolate import Isolation
from services.projections.parked import HELD, SetAside, parked_rows, release, tried_again


@dataclass
class RetryOutcome:
    projection: str
    applied: int = 0
    failed: list[SetAside] = field(default_factory=list)  # tried again and failed again
    held: int = 0  # still waiting behind one of those

    @property
    def remaining(self) -> int:
        return len(self.failed) + self.held


def retry_parked(
    store: LedgerStore, engine: Engine, projections: Sequence[Projection], batch: int = 2000
) -> list[RetryOutcome]:
    outcomes = []
    for p in projections:
        outcome = RetryOutcome(p.name)
        with engine.connect() as conn:
            rows = parked_rows(conn, p.name)
        # Streams in the order their first event was set aside (rows are in log order).
        for stream_id in dict.fromkeys(r.stream_id for r in rows):
            _retry_stream(store, engine, p, stream_id, batch, outcome)
        outcomes.append(outcome)
    return outcomes


def _retry_stream(
    store: LedgerStore, engine: Engine, p: Projection, stream_id: str, batch: int, outcome: RetryOutcome
) -> None:
    with engine.begin() as conn:
        # Every source's tracking rows: with Kafka, the workers of every partition take turns too.
        lock_every_source(conn, [p.name])
        # Read under the lock: the live runner may have held more behind, another retry applied some.
        rows = parked_rows(conn, p.name, stream_id)
        if not rows:
            return
        positions = {r.position for r in rows}
        first = min(r.stream_version for r in rows)
        events = _stream_events(store, UUID(stream_id), first, positions, batch)
        isolation = Isolation(p.name, {}, retrying=True)
        for page in events:
            isolation.apply(conn, p.apply, dispatch(store, page, [p])[0])
        tried = {n.id for page in events for n in page}
        still = {i.position for i in isolation.set_aside}
        release(conn, p.name, tried - still)
        tried_again(conn, p.name, isolation.set_aside)
        outcome.applied += len(tried - still)
        outcome.failed += [i for i in isolation.set_aside if i.error_type != HELD]
        outcome.held += sum(1 for i in isolation.set_aside if i.error_type == HELD)


def _stream_events(
    store: LedgerStore, stream: UUID, from_version: int, positions: set[int], batch: int
) -> list[list[Notification]]:
    """The log entries at `positions` of one stream, in stream order, in pages."""
    after = (stream, from_version - 1)
    before = UUID(int=min(stream.int + 1, END_OF_STREAMS.int))
    upto = max(positions)
    pages: list[list[Notification]] = []
    while True:
        rows = store.indexed.select_by_stream(after, before, upto, batch)
        if not rows:
            return pages
        wanted = [n for n in rows if n.id in positions]
        if wanted:
            pages.append(wanted)
        after = (stream, rows[-1].originator_version)
