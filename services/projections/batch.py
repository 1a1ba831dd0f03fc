"""One batch of log entries from one source, applied to the projections.

The same for every source (the log tailer, a Kafka partition): the caller's
transaction holds the tracking rows of that source; each projection gets the
entries above its position there, decoded once; what cannot be applied is
set aside (services/projections/isolate.py) and the stream's later events
held behind it; the caller then moves the positions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from eventsourcing.persistence import Notification
from sqlalchemy.engine import Connection

from infra.eventstore import LedgerStore
from services.projections.base import Notified, Projection
from services.projections.isolate import Isolation, Undecodable
from services.projections.parked import held_streams, set_aside


def apply_batch(
    conn: Connection,
    store: LedgerStore,
    projections: Sequence[Projection],
    notifications: Sequence[Notification],
    positions: Mapping[str, int],
) -> None:
    """Apply `notifications` (log order within their source) to each
    projection, skipping those at or below its `positions` entry."""
    held = held_streams(conn, [p.name for p in projections])
    for p, share in zip(projections, dispatch(store, notifications, projections), strict=True):
        # Redelivered entries, or a projection ahead of the others (rebuilt alone), skip what they have.
        mine = [(pos, ev) for pos, ev in share if pos > positions[p.name]]
        if mine:
            isolation = Isolation(p.name, held[p.name])
            isolation.apply(conn, p.apply, mine)
            set_aside(conn, p.name, isolation.set_aside)


def dispatch(
    store: LedgerStore, notifications: Sequence[Notification], projections: Sequence[Projection]
) -> list[list[Notified]]:
    """Each projection's share of the notifications, decoded once; topics no
    projection reads are never decoded. An entry the mapper cannot decode is
    an `Undecodable` in the share of every projection that reads its topic
    (`Isolation` sets it aside)."""
    wanted = frozenset().union(*(p.topics for p in projections))
    decoded = [(n.id, n.topic, _decode(store, n)) for n in notifications if n.topic in wanted]
    return [[(pos, ev) for pos, topic, ev in decoded if topic in p.topics] for p in projections]


def _decode(store: LedgerStore, n: Notification) -> object:
    try:
        return store.mapper.to_domain_event(n)
    except Exception as e:
        return Undecodable(n, e)
