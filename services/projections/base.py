"""What a projection is: the events it handles and how it applies a batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy.engine import Connection

Notified = tuple[int, Any]  # (log position, decoded domain event)


class Projection(Protocol):
    name: str
    # Topics of the domain event classes it reads; everything else is skipped undecoded.
    topics: frozenset[str]

    def apply(self, conn: Connection, events: Sequence[Notified]) -> None:
        """Apply a batch inside the caller's transaction (which also moves the
        tracking position). Must be idempotent: a redelivered event changes nothing."""
        ...
