"""Events a projection could not apply, set aside so that it goes on for everyone else.

One row per (projection, log position): the event (stream, version, event id,
topic), why it was set aside, when, and how many times it was tried. An event
that failed has its error; a later event of the same stream is *held behind*
it (`held_behind` is the failed event's position) and never applied out of
order over the hole: a student's status folded without one of its events
would be silently wrong. Rows are written in the transaction that moves the
projection's tracking position past them, and leave when `mastery
projections retry` applies them (services/projections/retry.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, overload

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection, Row

from infra.readmodels import parked_events

HELD = "Held"  # the error_type of an event held behind an earlier failed one
MAX_ERROR = 2000  # characters of an error message kept (a driver's can quote a whole batch)


@overload
def storable(text: str, limit: int | None = None) -> str: ...
@overload
def storable(text: None, limit: int | None = None) -> None: ...
@overload
def storable(text: str | None, limit: int | None = None) -> str | None: ...
def storable(text: str | None, limit: int | None = None) -> str | None:
    """`text` as every store can hold it: PostgreSQL refuses NUL in text and
    lone surrogates in UTF-8; the record of a poison event must not be
    poison itself."""
    if text is None:
        return None
    clean = text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    return clean if limit is None or len(clean) <= limit else clean[: limit - 1] + "…"


@dataclass(frozen=True)
class SetAside:
    """One event a projection did not apply, and why."""

    position: int
    stream_id: str
    stream_version: int
    event_id: str | None
    topic: str
    error_type: str
    error: str
    held_behind: int | None = None

    def row(self, projection: str, now: str) -> dict[str, Any]:
        return {
            "projection": projection,
            "position": self.position,
            "stream_id": self.stream_id,
            "stream_version": self.stream_version,
            "event_id": storable(self.event_id),
            "topic": storable(self.topic),
            "held_behind": self.held_behind,
            "error_type": storable(self.error_type),
            "error": storable(self.error, MAX_ERROR),
            "first_failed_at": now,
            "last_failed_at": now,
            "attempts": 0 if self.held_behind is not None else 1,
        }


def _now() -> str:
    return datetime.now(UTC).isoformat()


def held_streams(conn: Connection, projections: Sequence[str]) -> dict[str, dict[str, int]]:
    """Per projection, the streams with an event set aside and the position
    of the first one: the later events of those streams wait behind it."""
    t = parked_events
    rows = conn.execute(
        select(t.c.projection, t.c.stream_id, func.min(t.c.position))
        .where(t.c.projection.in_(list(projections)))
        .group_by(t.c.projection, t.c.stream_id)
    )
    out: dict[str, dict[str, int]] = {p: {} for p in projections}
    for projection, stream_id, position in rows:
        out[projection][stream_id] = int(position)
    return out


def set_aside(conn: Connection, projection: str, items: Sequence[SetAside]) -> None:
    """Record events set aside for the first time."""
    if items:
        now = _now()
        conn.execute(parked_events.insert(), [i.row(projection, now) for i in items])


def parked_rows(conn: Connection, projection: str, stream_id: str | None = None) -> list[Row[Any]]:
    """The events set aside for a projection (of one stream), in log order."""
    t = parked_events
    q = select(t).where(t.c.projection == projection)
    if stream_id is not None:
        q = q.where(t.c.stream_id == stream_id)
    return list(conn.execute(q.order_by(t.c.position)))


def release(conn: Connection, projection: str, positions: Iterable[int]) -> None:
    """Forget events that have now been applied."""
    t = parked_events
    wanted = list(positions)
    for i in range(0, len(wanted), 500):
        conn.execute(delete(t).where(t.c.projection == projection, t.c.position.in_(wanted[i : i + 500])))


def tried_again(conn: Connection, projection: str, items: Sequence[SetAside]) -> None:
    """Note the outcome of a retry that set these events aside again: an
    event that failed counts one more attempt and keeps its newest error; an
    event held (it was not tried) records what it now waits behind."""
    t = parked_events
    now = _now()
    for i in items:
        tried = i.held_behind is None
        conn.execute(
            update(t)
            .where(t.c.projection == projection, t.c.position == i.position)
            .values(
                error_type=storable(i.error_type),
                error=storable(i.error, MAX_ERROR),
                held_behind=i.held_behind,
                last_failed_at=now if tried else t.c.last_failed_at,
                attempts=t.c.attempts + 1 if tried else t.c.attempts,
            )
        )


def parked_summary(conn: Connection, projections: Sequence[str] | None = None) -> dict[str, int]:
    """How many events each projection has set aside (failed and held alike),
    0 for those with none. Without `projections`, every projection with any
    (a rebuild's fresh copies included)."""
    t = parked_events
    q = select(t.c.projection, func.count()).group_by(t.c.projection)
    if projections is not None:
        q = q.where(t.c.projection.in_(list(projections)))
    found = {p: int(n) for p, n in conn.execute(q)}
    return found if projections is None else {p: found.get(p, 0) for p in projections}


def hand_over(conn: Connection, source: str, target: str) -> None:
    """A rebuild's switch: the fresh copy's set-aside events replace the live ones."""
    t = parked_events
    conn.execute(delete(t).where(t.c.projection == target))
    conn.execute(update(t).where(t.c.projection == source).values(projection=target))


def forget_prefixed(conn: Connection, prefix: str) -> None:
    """Drop the rows of the fresh copies an interrupted rebuild left behind."""
    t = parked_events
    conn.execute(delete(t).where(t.c.projection.startswith(prefix, autoescape=True)))
