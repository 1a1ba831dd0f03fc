"""One export, planned: which rows, which format, and where in the log it cuts.

Shared by `GET /v1/export` and `mastery export`, so both give the same bytes.
The caller fixes the cut (the log's head) and sees to it that the read
models have reached it before planning (services/export/api.py,
services/export_cli.py): the roster columns come from them.
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
from services.errors import NotFound
from services.export.columns import COLUMNS, Batch
from services.export.filters import Filters, refuse_unfit
from services.export.formats import MEDIA_TYPES, Format, encode
from services.export.lookups import Curriculum, Roster
from services.export.pseudonyms import Pseudonymiser, pseudonym_secret
from services.export.redaction import Redaction
from services.export.roster import objective_batches, roster_batches
from services.export.sources import event_batches, mastery_batches

ExportKind = Literal["events", "mastery", "roster", "objectives"]
KINDS: tuple[ExportKind, ...] = ("events", "mastery", "roster", "objectives")


@dataclass(frozen=True)
class Stores:
    """What an export reads: the event log, the catalog over it, the read
    models (roster, catalog rows) and the trust store (keys, the pseudonym secret)."""

    events: LedgerStore
    catalog: Catalog
    read_models: Engine
    trust: Engine


@dataclass(frozen=True)
class Cut:
    """Where an export stops: a log position, and the moment just before it
    was read (the replays' known_at, the catalog's "now")."""

    at: datetime
    position: int


def take_cut(store: LedgerStore) -> Cut:
    at = datetime.now(UTC)
    return Cut(at, store.head_position())


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
    stores: Stores,
    kind: ExportKind,
    fmt: Format,
    pseudonymise: bool,
    cut: Cut,
    filters: Filters | None = None,
    naming: Callable[[Iterable[str]], None] | None = None,
) -> Export:
    """Check the request and fix what the rows are read against now; the rows
    are read lazily as `chunks` is iterated. Raises InvalidInput for a filter
    the kind does not take, NotFound for an unknown school. `naming`, if
    given, is told each student the export names, once, before the rows
    naming it go out (the API's access log); a pseudonymised export, or one
    of the catalog, names no one and tells nothing."""
    filters = refuse_unfit(kind, filters or Filters())
    roster = Roster(stores.read_models)
    if filters.school_id is not None and not roster.school_exists(filters.school_id):
        raise NotFound(f"no school {filters.school_id!r}")
    naming = None if pseudonymise or kind == "objectives" else naming
    started = cut.at
    keys = StudentKeys(stores.trust)
    redaction = Redaction(Pseudonymiser(pseudonym_secret(stores.trust))) if pseudonymise else None
    curriculum = Curriculum(stores.catalog, started)
    batches: Iterator[Batch]
    if kind == "events":
        batches = event_batches(stores.events, keys, roster, curriculum, cut.position, filters, redaction)
    elif kind == "mastery":
        batches = mastery_batches(stores.events, roster, curriculum, filters, redaction)
    elif kind == "roster":
        batches = roster_batches(stores.read_models, keys, filters, redaction)
    else:
        batches = objective_batches(stores.read_models, started)
    chunks = encode(fmt, COLUMNS[kind], _told(batches, naming))
    return Export(kind, fmt, cut.position, started, pseudonymise, chunks)


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
