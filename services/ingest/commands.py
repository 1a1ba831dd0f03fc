"""What the write path is asked to do, as plain data: the HTTP routes, the
backfill, the demo loader and the tests build these, and the writer
(services/ingest/writer.py) carries them out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.ingest.event_checks import Backfill
from services.ingest.schemas import EventIn


@dataclass(frozen=True)
class RecordEvents:
    """Append a batch of learning events, all or none. `backfill`: the events
    come from another system, each with its own recorded_at and recorder
    (admin only, services/ingest/backfill.py)."""

    events: Sequence[EventIn]
    recorded_by: str
    request_id: str
    backfill: Backfill | None = None
