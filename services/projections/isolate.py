"""Apply a batch, and when it fails, find the events that cannot be applied.

Every attempt runs inside a savepoint of the caller's transaction (which
holds the tracking locks), so a failed attempt leaves nothing behind and the
rest of the batch goes on in the same transaction that then records what was
set aside and moves the tracking position. A transient error (infra/
transient.py) is raised as it is: the whole transaction is tried again later,
nothing is set aside for it.

Live (`apply_isolating`) a failed batch is cut in halves, in log order, down
to the single events that fail alone. The rebuild's bulk path
(`load_isolating`) keeps whole streams together, as `Projection.load` needs,
down to the one stream that fails, then finds the first event of that stream
whose prefix fails. Either way the failed event's later events in its stream
are held behind it, never applied over the hole, and earlier ones are
applied: live and rebuild set aside the same events.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import groupby

from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic
from sqlalchemy.engine import Connection
from sqlalchemy.exc import StatementError

from infra.transient import is_transient
from services.projections.base import Notified
from services.projections.parked import HELD, MAX_ERROR, SetAside, storable

log = logging.getLogger(__name__)

Apply = Callable[[Connection, Sequence[Notified]], None]
Held = dict[str, int]  # stream id -> position of its event set aside first


@dataclass(frozen=True)
class Undecodable:
    """Stands in a batch for a log entry the mapper could not decode."""

    notification: Notification
    error: Exception


def stream_of(entry: Notified) -> str:
    ev = entry[1]
    if isinstance(ev, Undecodable):
        return str(ev.notification.originator_id)
    return str(ev.originator_id)


def _describe(entry: Notified, error: BaseException | None, held_behind: int | None = None) -> SetAside:
    pos, ev = entry
    if isinstance(ev, Undecodable):
        n = ev.notification
        version, topic, event_id = int(n.originator_version), n.topic, None
    else:
        version, topic = int(ev.originator_version), get_topic(type(ev))
        event_id = getattr(ev, "event_id", None)
    if held_behind is not None:
        kind, why = HELD, f"held behind the event at log position {held_behind}, set aside earlier"
    else:
        assert error is not None
        kind, why = _reason(error)
    # Cleaned here, so that the log line is as legible as the row.
    return SetAside(
        pos, stream_of(entry), version, storable(event_id), topic, kind, storable(why, MAX_ERROR), held_behind
    )


def _reason(error: BaseException) -> tuple[str, str]:
    """The error's type and message; for a database error the driver's own
    (SQLAlchemy's wrapper adds the statement and every parameter of the batch)."""
    if isinstance(error, StatementError) and isinstance(error.orig, BaseException):
        error = error.orig
    message = str(error).strip() or repr(error)
    return type(error).__name__, message


class Isolation:
    """What one projection sets aside from one batch; `held` carries over
    from the events set aside before (and is updated)."""

    def __init__(self, projection: str, held: Held, *, retrying: bool = False) -> None:
        self.projection = projection
        self.held = held
        # A retry sets aside again what was set aside (and logged) before:
        # it logs what still fails at WARNING, and held events not at all.
        self.retrying = retrying
        self.set_aside: list[SetAside] = []

    def _fail(self, entry: Notified, error: BaseException) -> None:
        item = _describe(entry, error)
        self.held.setdefault(item.stream_id, item.position)
        self.set_aside.append(item)
        log.log(
            logging.WARNING if self.retrying else logging.ERROR,
            "projection %s %s event %s (stream %s version %d, log position %d, %s): %s: %s",
            self.projection,
            "still cannot apply" if self.retrying else "set aside",
            item.event_id or "-",
            item.stream_id,
            item.stream_version,
            item.position,
            item.topic,
            item.error_type,
            item.error,
        )

    def ready(self, entries: Sequence[Notified]) -> list[Notified]:
        """The entries that may be tried: undecodable ones are set aside, and
        the events of streams with an event set aside are held behind it."""
        if not self.held and not any(isinstance(ev, Undecodable) for _, ev in entries):
            return list(entries)  # the usual case, on the hot path of every batch
        out: list[Notified] = []
        held_now: dict[str, list[SetAside]] = {}
        for entry in entries:
            stream = stream_of(entry)
            if stream in self.held:
                item = _describe(entry, None, self.held[stream])
                self.set_aside.append(item)
                held_now.setdefault(stream, []).append(item)
            elif isinstance(entry[1], Undecodable):
                self._fail(entry, entry[1].error)
            else:
                out.append(entry)
        for stream, items in held_now.items() if not self.retrying else ():
            # One line per stream and batch, naming every event: a busy student held
            # for an hour would otherwise write a line per event.
            log.error(
                "projection %s set aside %d event(s) of stream %s held behind log position %d: %s",
                self.projection,
                len(items),
                stream,
                self.held[stream],
                ", ".join(i.event_id or f"v{i.stream_version}" for i in items),
            )
        return out

    def apply(self, conn: Connection, apply: Apply, entries: Sequence[Notified]) -> None:
        """Apply `entries` (log order), halving a part that fails until the
        events that fail alone are found and set aside."""
        part = self.ready(entries)
        if not part:
            return
        error = attempt(conn, apply, part)
        if error is None:
            return
        if len(part) == 1:
            self._fail(part[0], error)
            return
        mid = len(part) // 2
        self.apply(conn, apply, part[:mid])
        self.apply(conn, apply, part[mid:])

    def load(self, conn: Connection, load: Apply, entries: Sequence[Notified]) -> None:
        """Load `entries` (stream order, whole streams) as `apply` does, but
        halving by whole streams; within the one stream that fails, its
        longest prefix that loads is loaded and the rest set aside."""
        part = self.ready(entries)
        if not part:
            return
        error = attempt(conn, load, part)
        if error is None:
            return
        streams = [list(g) for _, g in groupby(part, key=stream_of)]
        if len(streams) > 1:
            mid = len(streams) // 2
            self.load(conn, load, [e for s in streams[:mid] for e in s])
            self.load(conn, load, [e for s in streams[mid:] for e in s])
            return
        events = streams[0]
        # The shortest failing prefix: events[:hi + 1] fails, events[:lo] loads.
        lo, hi = 0, len(events) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            probe = attempt(conn, load, events[: mid + 1], keep=False)
            if probe is None:
                lo = mid + 1
            else:
                hi, error = mid, probe
        if lo:
            again = attempt(conn, load, events[:lo])
            if again is not None:  # not reproducible: keep the earliest event that failed
                lo, error = 0, again
        self._fail(events[lo], error)
        self.ready(events[lo + 1 :])


def attempt(
    conn: Connection, apply: Apply, entries: Sequence[Notified], *, keep: bool = True
) -> Exception | None:
    """Run `apply` in a savepoint: None when it succeeded (kept unless `keep`
    is false), else its error (rolled back). Transient errors propagate."""
    savepoint = conn.begin_nested()
    try:
        apply(conn, entries)
    except Exception as e:
        if savepoint.is_active:
            savepoint.rollback()
        if is_transient(e):
            raise
        return e
    if keep:
        savepoint.commit()
    else:
        savepoint.rollback()
    return None
