"""`mastery export` (CONTRACT.md §1): the exports of `GET /v1/export`, same
kinds, filters and bytes, written to a file or stdout (docs/exports.md)."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import TypeAdapter, ValidationError

from services.cli_store import DataDir, die, existing_ledger
from services.inputs import Id, Time

# The same rules as the HTTP query parameters (services/inputs.py).
_TIME: TypeAdapter[datetime] = TypeAdapter(Time)
_ID: TypeAdapter[str] = TypeAdapter(Id)


def _time(value: str | None, option: str) -> datetime | None:
    try:
        return None if value is None else _TIME.validate_python(value)
    except ValidationError as e:
        die(f"{option} {e.errors()[0]['msg']}, got {value!r}")


def _id(value: str | None, option: str) -> str | None:
    try:
        return None if value is None else _ID.validate_python(value)
    except ValidationError as e:
        die(f"{option} {e.errors()[0]['msg']}, got {value!r}")


def export(
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            help="events (every learning event) | mastery (status changes) | roster (students and "
            "their classes) | objectives (the catalog)",
        ),
    ],
    fmt: Annotated[str, typer.Option("--format", help="ndjson | csv | parquet")] = "ndjson",
    out_file: Annotated[Path | None, typer.Option("--out", help="write here instead of stdout")] = None,
    pseudonymise: Annotated[
        bool, typer.Option("--pseudonymise", help="stable pseudonyms for student ids; drop names, free text")
    ] = False,
    school_id: Annotated[
        str | None, typer.Option("--school", help="only the students of this school (not objectives)")
    ] = None,
    start: Annotated[
        str | None,
        typer.Option("--from", help="only what occurred at or after T (RFC 3339; events, mastery)"),
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="only what occurred before T, RFC 3339 (events, mastery)")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Export learning events, status changes, the roster or the catalog, streamed.

    Columns and types of each kind: docs/exports.md. Kind events: position,
    event_id, type, student_id, school_id, grade, class_ids, class_course_ids,
    objective_id, subject, course, unit, occurred_at, recorded_at,
    recorded_by, correct, total, percent, rubric_level, score (0-1), payload
    (JSON text); a benchmark
    gives a row per result. Kind mastery: the student's and objective's
    columns, event_id, type, occurred_at, recorded_at, voided, status_before,
    status_after, changed and the event's score columns. Kind roster: a row
    per student with name, grade, school and class lists (ids, names,
    OneRoster courses). Kind objectives:
    one row per objective with the rule in force. In CSV a list is written
    with its items joined by ';'.
    """
    from services.errors import ProblemError
    from services.export.export import KINDS, Stores, plan_export, take_cut
    from services.export.filters import Filters
    from services.export.formats import FORMATS
    from services.verify import StreamBroken
    from services.verify_cli import exit_broken

    if kind not in KINDS:
        die(f"--kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if fmt not in FORMATS:
        die(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    filters = Filters(_id(school_id, "--school"), _time(start, "--from"), _time(end, "--to"))
    if problems := filters.problems(kind):
        die("; ".join(f"--{p['loc'][-1].replace('school_id', 'school')} {p['msg']}" for p in problems))
    ledger = existing_ledger(data_dir)
    try:
        cut = take_cut(ledger.store)
        # The roster columns come from the read models: bring them to the cut
        # if no running service has (safe beside one: each batch locks the
        # projections' positions, services/projections/runner.py).
        behind = ledger.runner.position()
        if behind < cut.position:
            ledger.runner.catch_up()
            print(f"mastery: read models brought from position {behind:,} to the log's head", file=sys.stderr)
        stores = Stores(ledger.store, ledger.catalog, ledger.engine, ledger.trust)
        try:
            planned = plan_export(stores, kind, fmt, pseudonymise, cut, filters)
        except ProblemError as e:
            die(e.detail)
        target = open(out_file, "wb") if out_file else sys.stdout.buffer  # noqa: SIM115
        try:
            for chunk in planned.chunks:
                target.write(chunk)
        finally:
            if out_file:
                target.close()
            else:
                target.flush()
    except StreamBroken as e:  # kind mastery replays every student: stop at one that does not verify
        exit_broken(e, "the export (incomplete)")
    finally:
        ledger.close()
    if out_file:
        print(
            f"mastery: exported {kind} as {fmt} up to log position {planned.position:,} to {out_file}",
            file=sys.stderr,
        )
