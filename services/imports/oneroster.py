"""A OneRoster 1.2 CSV import, whole or not at all (docs/imports.md).

Everything is read and checked before anything is written: the files' form,
the references between them and to the store. Then the plan is compared with
the stored roster and only what differs is appended, in one write: an import
of the same files again stores nothing. If another writer changed one of the
same records in between, the write fails on that record's version and the
import is compared and written again (a few times, then it gives up).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from eventsourcing.domain import CanMutateAggregate
from sqlalchemy import Engine

from infra.eventstore import IntegrityError, LedgerStore
from infra.keys import StudentKeys
from services.imports.oneroster_apply import Summary, changes
from services.imports.oneroster_files import Bundle, BundleError, Problem, Reader, open_source, read_bundle
from services.imports.oneroster_plan import Planner
from services.imports.oneroster_spec import FILES
from services.imports.roster_state import load_roster

Progress = Callable[[str, int, int], None]  # stage, done, total
_ATTEMPTS = 3


class ImportRefused(Exception):
    """The bundle has problems: nothing was imported."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the OneRoster files; nothing was imported")
        self.problems = problems


_ORDER = {f: i for i, f in enumerate(["manifest.csv", *(name + ".csv" for name in FILES)])}


def _by_file(p: Problem) -> tuple[int, int]:
    """Problems as a district reads them: file by file, line by line."""
    return _ORDER.get(p.file, -1), p.line or 0


def _quiet(stage: str, done: int, total: int) -> None:
    del stage, done, total


@dataclass
class RosterImporter:
    store: LedgerStore
    read_models: Engine
    keys: StudentKeys
    # Brings the read models up to the log's head: which records exist at
    # all is read there (roster_state.py).
    catch_up: Callable[[], object]

    def run(self, source: Path | bytes, progress: Progress = _quiet) -> Summary:
        """Import a folder, a zip file or a zip's bytes; ImportRefused lists every problem."""
        try:
            bundle, problems = self._read(open_source(source), progress)
        except BundleError as e:
            raise ImportRefused([Problem("(bundle)", None, None, str(e))]) from None
        for attempt in range(_ATTEMPTS):
            try:
                return self._once(bundle, problems, progress)
            except IntegrityError as e:
                if attempt == _ATTEMPTS - 1 or not self.store.indexed.is_stream_conflict(e):
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    def _read(source: Reader, progress: Progress) -> tuple[Bundle, list[Problem]]:
        rows = 0

        def read(n: int) -> None:
            nonlocal rows
            rows += n
            progress("reading", rows, 0)

        return read_bundle(source, read)

    def _once(self, bundle: Bundle, problems: list[Problem], progress: Progress) -> Summary:
        if any(p.line in (None, 1) for p in problems):
            # A manifest or a header that cannot be read: the references
            # between files would only echo it.
            raise ImportRefused(problems)
        progress("comparing", 0, 1)
        self.catch_up()
        tables = bundle.tables
        orgs = tables.get("orgs")
        school_ids = [orgs.get(r, "sourcedId") for r in orgs.rows] if orgs else []
        classes = tables.get("classes")
        class_ids = [classes.get(r, "sourcedId") for r in classes.rows] if classes else []
        stored = load_roster(self.store, self.read_models, school_ids, class_ids)
        planner = Planner(bundle, stored)
        plan = planner.plan()
        if problems or planner.problems:
            raise ImportRefused(sorted(problems + planner.problems, key=_by_file))
        summary = Summary(files=dict(bundle.modes), ignored_users=plan.ignored_users)
        aggregates = changes(plan, stored, self.store, self.keys, summary)
        progress("comparing", 1, 1)
        events: list[CanMutateAggregate[UUID]] = [e for a in aggregates for e in a.collect_events()]
        progress("writing", 0, len(events))
        if events:
            recordings = self.store.events.put(events)
            summary.position = max(r.notification.id for r in recordings)
        else:
            summary.position = self.store.head_position()
        summary.events = len(events)
        progress("writing", len(events), len(events))
        return summary
