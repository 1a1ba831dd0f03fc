"""What a projection is: the events it handles, the tables it owns, and how
it applies a batch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import Table
from sqlalchemy.engine import Connection

Notified = tuple[int, Any]  # (log position, decoded domain event)


class Projection(Protocol):
    @property
    def name(self) -> str:
        """Also the key of its tracking position."""
        ...

    @property
    def topics(self) -> frozenset[str]:
        """Topics of the event classes it reads; everything else is skipped undecoded."""
        ...

    @property
    def first(self) -> frozenset[str]:
        """Topics a rebuild applies in log order before its bulk load, because
        the fold of other streams reads what they build (rule versions)."""
        ...

    @property
    def tables(self) -> Sequence[Table]:
        """Every table it writes. A rebuild builds fresh copies and swaps them in."""
        ...

    def apply(self, conn: Connection, events: Sequence[Notified]) -> None:
        """Apply a batch inside the caller's transaction (which also moves the
        tracking position). Must be idempotent: a redelivered event changes nothing."""
        ...

    def load(self, conn: Connection, events: Sequence[Notified]) -> None:
        """A rebuild's bulk path, into fresh tables: `events` are in stream
        order and hold every event (up to the rebuild's head) of each stream
        they touch; no other call has seen those streams."""
        ...

    def shadow(self, suffix: str) -> Projection:
        """The same projection writing into fresh tables named `<table><suffix>`,
        tracked as `<name><suffix>`."""
        ...


@runtime_checkable
class TimedProjection(Projection, Protocol):
    """A projection that also acts on the passage of time."""

    def due(self, conn: Connection, now: datetime) -> bool:
        """Whether `tick` has anything to do at `now` (a read, no locks)."""
        ...

    def tick(self, conn: Connection, now: datetime) -> int:
        """Act on what has come due, inside the caller's transaction (which
        holds the tracking locks); return how many things it acted on."""
        ...
