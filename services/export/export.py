"""One export, planned: which rows, which format, and where in the log it cuts.

Shared by `GET /v1/export` and `mastery export`, so both give the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
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
    Batch,
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
    naming: Callable[[Iterable[str]], None] | None = None,
) -> Export:
    """Fix the cut now; the rows are read lazily as `chunks` is iterated.
    `trust` holds the pseudonym secret. `naming`, if given, is told each
    student the export names, once, before the rows naming it go out (the
    API's access log); a pseudonymised export names no one and tells nothing."""
    naming = None if pseudonymise else naming
    started = datetime.now(UTC)
    position = store.head_position()
    keys = StudentKeys(trust)
    redaction = Redaction(Pseudonymiser(pseudonym_secret(trust))) if pseudonymise else None
    if kind == "events":
        chunks = encode(fmt, EVENT_COLUMNS, _told(event_batches(store, keys, position, redaction), naming))
    else:
        batches = mastery_batches(store, catalog, keys, position, started, redaction)
        chunks = encode(fmt, MASTERY_COLUMNS, _told(batches, naming))
    return Export(kind, fmt, position, started, pseudonymise, chunks)


def _told(batches: Iterator[Batch], naming: Callable[[Iterable[str]], None] | None) -> Iterator[Batch]:
    """The batches, each student they name told to `naming` the first time."""
    told: set[str] = set()
    for batch in batches:
        if naming is not None:
            new = list(dict.fromkeys(r["student_id"] for r in batch if r["student_id"] not in told))
            if new:
                told.update(new)
                naming(new)
        yield batch
