"""`mastery import oneroster PATH`: a OneRoster 1.2 CSV bundle into the store,
with a progress bar and a summary (docs/imports.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from infra.eventstore import LogBusy
from infra.settings import ConfigError
from services.cli_store import DataDir, die, load
from services.imports.oneroster_apply import KINDS, Summary

err = Console(stderr=True)


def oneroster(
    path: Annotated[Path, typer.Argument(help="a folder or a .zip holding manifest.csv and the CSV files")],
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
) -> None:
    """Import a OneRoster 1.2 CSV bundle (bulk or delta files, `tobedeleted` honoured).

    Schools come from orgs of type school, students and teachers from users
    (their role from roles.csv, else from their enrolments), classes from
    classes.csv with their members from enrollments.csv. Every file is
    checked before anything is stored: a bundle with problems is refused
    whole, each problem listed (file, line, column, why), exit status 2.
    Importing the same files again stores nothing.
    """
    from services.bootstrap import build_ledger
    from services.imports.oneroster import ImportRefused, RosterImporter

    if not path.exists():
        die(f"{path} does not exist")
    settings = load(data_dir)
    try:
        ledger = build_ledger(settings)
    except ConfigError as e:
        die(str(e))
    print(f"mastery: store: {settings.describe_store()}", file=sys.stderr)
    bar = Progress(
        TextColumn("{task.description:<10}"),
        BarColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )
    tasks: dict[str, TaskID] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total or None, detail="")
        detail = f"{done:,} rows" if stage == "reading" else f"{done:,}/{total:,}" if total else ""
        bar.update(tasks[stage], completed=done, total=total or None, detail=detail)

    try:
        with bar:
            summary = RosterImporter(ledger.store, ledger.engine, ledger.keys, ledger.runner.catch_up).run(
                path, progress
            )
            # The read models show the import before the command returns, as
            # `mastery export` brings them up itself: a token scoped to a class
            # just imported (`token create --scope class:ID`) checks them, and
            # no service may be running yet. Safe beside one (each batch locks
            # the projections' positions).
            progress("projecting", 0, 1)
            ledger.runner.catch_up()
            progress("projecting", 1, 1)
    except ImportRefused as e:
        for problem in e.problems:
            print(problem, file=sys.stderr)
        die(str(e))
    except LogBusy as e:
        die(f"the event log is busy, nothing was imported; try again: {e}")
    finally:
        ledger.close()
    if as_json:
        print(json.dumps(summary.as_json(), indent=2))
    else:
        Console().print(summary_table(summary))


def summary_table(summary: Summary) -> Table:
    table = Table(title=f"{summary.events:,} events stored; log position {summary.position:,}")
    for heading in ("", "created", "changed", "unchanged", "removed"):
        table.add_column(heading, justify="left" if not heading else "right")
    for kind in KINDS:
        c = summary.kinds[kind]
        table.add_row(kind, *(f"{n:,}" for n in (c.created, c.changed, c.unchanged, c.removed)))
    if summary.ignored_users or summary.erased_students:
        table.caption = (
            f"{summary.ignored_users:,} users neither students nor teachers (not stored); "
            f"{summary.erased_students:,} erased students left as they are"
        )
    return table
