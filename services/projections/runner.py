"""Tails the event log in batches and feeds the projections.

Works on both backends: it reads `select_notifications` from the tracked
position (DESIGN.md: ProjectionRunner subscriptions do not exist for SQLite).
Each batch is applied in one read-model transaction that also moves every
projection's tracking position, so a crash at any moment resumes cleanly.
An event a projection cannot apply is set aside in that same transaction
(services/projections/isolate.py, parked.py) and the projection goes on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from infra.eventstore import LedgerStore
from infra.tracking import LOG, lock_positions, reached_position, set_position, tracked_position
from infra.transient import is_transient
from services.projections.base import Projection, TimedProjection
from services.projections.batch import apply_batch
from services.projections.parked import parked_summary

log = logging.getLogger(__name__)


class ProjectionRunner:
    def __init__(
        self,
        store: LedgerStore,
        engine: Engine,
        projections: Sequence[Projection],
        batch_size: int = 2000,
    ) -> None:
        self.store = store
        self.engine = engine
        self.projections = list(projections)
        self.batch_size = batch_size
        # The sources `position` reads: this runner's (LOG), or the Kafka
        # partitions' (KAFKA) where workers of a consumer group apply the log.
        self.kind = LOG
        # Called (from the runner's thread) after each batch `run` commits:
        # reads waiting for a position poll at once (services/waiting.py).
        self.after_batch: list[Callable[[], None]] = []
        self._tick_failure: str | None = None  # the last tick's error, logged once

    def position(self) -> int:
        """The position every read model has reached (what reads may rely on)."""
        with self.engine.connect() as conn:
            return reached_position(conn, [p.name for p in self.projections], self.kind)

    def parked(self) -> dict[str, int]:
        """How many events each projection has set aside (0 for none): what
        /ready and the metrics report."""
        with self.engine.connect() as conn:
            return parked_summary(conn, [p.name for p in self.projections])

    def step(self, conn: Connection | None = None) -> int:
        """Apply the next batch; return how many log entries it covered.

        With `conn`, the batch joins the caller's transaction (which must hold
        the tracking locks); otherwise it runs in a transaction of its own.
        """
        if conn is None:
            with self.engine.begin() as own:
                return self._step(own, lock_positions(own, [p.name for p in self.projections]))
        return self._step(conn, {p.name: tracked_position(conn, p.name) for p in self.projections})

    def _step(self, conn: Connection, positions: dict[str, int]) -> int:
        start = min(positions.values(), default=0)
        notifications = self.store.recorder.select_notifications(
            start, self.batch_size, inclusive_of_start=False
        )
        if not notifications:
            return 0
        last = notifications[-1].id
        apply_batch(conn, self.store, self.projections, notifications, positions)
        for p in self.projections:
            if last > positions[p.name]:
                set_position(conn, p.name, last)
        return len(notifications)

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        total = 0
        while n := self.step():
            total += n
            if progress:
                progress(n)
        return total

    def tick(self) -> int:
        """Let projections act on the passage of time (a rule version coming into force)."""
        timed = [p for p in self.projections if isinstance(p, TimedProjection)]
        if not timed:
            return 0
        now = datetime.now(UTC)
        # A read first: the write transaction (and its locks) only when something is due.
        with self.engine.connect() as conn:
            due = [p for p in timed if p.due(conn, now)]
        if not due:
            return 0
        with self.engine.begin() as conn:
            lock_positions(conn, [p.name for p in due])
            return sum(int(p.tick(conn, now)) for p in due)

    def run(self, stop: threading.Event, idle_sleep: float = 0.02, tick_every: float = 1.0) -> None:
        """Tail the log until `stop` is set; errors are logged and retried.

        What reaches this loop is not an event's fault: an event that cannot
        be applied has been set aside by the step. A transient database error
        (a dropped connection, a lock timeout) is retried after a second; so
        is anything else, at ERROR, since the next batch may well go through.

        While idle it only reads the log's head (one index probe) every
        `idle_sleep`: a step is a write transaction on the tracking rows, and
        taking it fifty times a second for nothing cost the reads of the same
        process a tenth of a core and their p99.
        """
        last_tick = 0.0
        idle_at: int | None = None  # the log head when the last step found nothing
        while not stop.is_set():
            try:
                if time.monotonic() - last_tick >= tick_every:
                    last_tick = time.monotonic()
                    self.tick_safely()
                head = self.store.head_position()
                if idle_at is not None and head <= idle_at:
                    stop.wait(idle_sleep)
                    continue
                if self.step() == 0:
                    idle_at = head
                    stop.wait(idle_sleep)
                else:
                    idle_at = None
                    for listener in self.after_batch:
                        listener()
            except Exception as e:  # keep tailing: a transient database error must not stop projections
                transient = is_transient(e)
                log.log(
                    logging.WARNING if transient else logging.ERROR,
                    "projection batch failed (%s); retrying in 1 s",
                    "transient" if transient else "not an event's fault",
                    exc_info=True,
                )
                idle_at = None
                stop.wait(1.0)

    def tick_safely(self) -> None:
        """`tick`, whose failure must not stop the batches behind it (a rule
        coming into force that some student's records cannot be recomputed
        under): logged once while it keeps failing the same way, tried again
        at every tick."""
        try:
            self.tick()
        except Exception as e:
            failure = f"{type(e).__name__}: {e}"
            if failure != self._tick_failure:
                log.error("projection tick failed; trying again every tick", exc_info=True)
            self._tick_failure = failure
        else:
            self._tick_failure = None
