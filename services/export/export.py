"""One export, planned: which rows, which format, and where in the log it cuts.

Shared by `GET /v1/export` and `mastery export`, so both give the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from services.bootstrap import Ledger
from services.export.formats import MEDIA_TYPES, Format, encode
from services.export.pseudonyms import Pseudonymiser, pseudonym_secret
from services.export.sources import (
    EVENT_COLUMNS,
    MASTERY_COLUMNS,
    Redaction,
    event_batches,
    mastery_batches,
)

ExportKind = Literal["events", "mastery"]
KINDS: tuple[ExportKind, ...] = ("events", "mastery")


@dataclass(frozen=True)
class Export:
    kind: ExportKind
    fmt: Format
    position: int  # the log position the export cuts at
    started_at: datetime
    pseudonymised: bool
    chunks: Iterator[bytes]

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.fmt]

    @property
    def filename(self) -> str:
        return f"mastery-{self.kind}-{self.started_at:%Y%m%dT%H%M%SZ}.{self.fmt}"


def plan_export(ledger: Ledger, kind: ExportKind, fmt: Format, pseudonymise: bool) -> Export:
    """Fix the cut now; the rows are read lazily as `chunks` is iterated."""
    started = datetime.now(UTC)
    position = ledger.store.head_position()
    redaction = Redaction(Pseudonymiser(pseudonym_secret(ledger.engine))) if pseudonymise else None
    if kind == "events":
        chunks = encode(fmt, EVENT_COLUMNS, event_batches(ledger.store, position, redaction))
    else:
        batches = mastery_batches(ledger.store, ledger.catalog, position, started, redaction)
        chunks = encode(fmt, MASTERY_COLUMNS, batches)
    return Export(kind, fmt, position, started, pseudonymise, chunks)
