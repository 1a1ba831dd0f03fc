"""One export, planned: which rows, which format, and where in the log it cuts.

Shared by `GET /v1/export` and `mastery export`, so both give the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import Engine

from infra.eventstore import LedgerStore
from infra.keys import StudentKeys
from services.catalog import Catalog
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


def plan_export(
    store: LedgerStore,
    catalog: Catalog,
    trust: Engine,
    kind: ExportKind,
    fmt: Format,
    pseudonymise: bool,
) -> Export:
    """Fix the cut now; the rows are read lazily as `chunks` is iterated.
    `trust` holds the pseudonym secret."""
    started = datetime.now(UTC)
    position = store.head_position()
    keys = StudentKeys(trust)
    redaction = Redaction(Pseudonymiser(pseudonym_secret(trust))) if pseudonymise else None
    if kind == "events":
        chunks = encode(fmt, EVENT_COLUMNS, event_batches(store, keys, position, redaction))
    else:
        batches = mastery_batches(store, catalog, keys, position, started, redaction)
        chunks = encode(fmt, MASTERY_COLUMNS, batches)
    return Export(kind, fmt, position, started, pseudonymise, chunks)
