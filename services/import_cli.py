"""`mastery import …`: bulk imports into a store (docs/imports.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from services.cli_store import DataDir, die
from services.oneroster_cli import oneroster

if TYPE_CHECKING:
    from services.ingest.case_import import Imported
    from services.ingest.case_package import Plan
    from services.ingest.case_tree import Problem

import_app = typer.Typer(
    help="Bulk imports: a district's roster (OneRoster 1.2 CSV), standards (CASE 1.1).", no_args_is_help=True
)
import_app.command("oneroster")(oneroster)

_RULE_HELP = (
    'the mastery rule of every objective, JSON as in PUT /v1/objectives (e.g. \'{"threshold": '
    '{"kind": "correct_of", "min_correct": 4, "of": 5}}\'); with --rules, of the item types it does not name'
)


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        die(f"cannot read {what} {path}: {e.strerror or e}")


def _refuse(source: Path | str, problems: list[Problem]) -> NoReturn:
    for p in problems:
        print(f"  {p.where}: {' '.join(p.why.split())}", file=sys.stderr)
    die(f"{source}: {len(problems)} problem{'s' if len(problems) != 1 else ''}; nothing was imported")


@import_app.command("case")
def case(
    source: Annotated[
        str,
        typer.Argument(
            metavar="FILE_OR_URL",
            help="a CASE 1.1 CFPackage as JSON: a file, or an http(s) URL to fetch it from",
        ),
    ],
    rule: Annotated[str | None, typer.Option("--rule", help=_RULE_HELP)] = None,
    rules: Annotated[
        Path | None,
        typer.Option("--rules", help="a JSON file: an object from CFItemType to the rule of its objectives"),
    ] = None,
    effective_from: Annotated[
        str | None,
        typer.Option(
            "--effective-from", help="when a new or changed rule takes effect (RFC 3339; default now)"
        ),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="check the package and report; store nothing")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Import a CASE 1.1 package's items as objectives, `precedes` as prerequisites.

    The package is a file or a URL (http:// or https://, e.g. a CASE provider's
    /ims/case/v1p0/CFPackages/{id}); a URL that does not answer a JSON body
    within 30 s and 64 MB is refused in one line, nothing imported.

    The leaves of the isChildOf tree become objectives (id: humanCodingScheme,
    else identifier; statement: fullStatement); the item under the CFDocument
    is their course, their parent their unit; sequence is their place in the
    course. A package with problems is refused whole, each problem listed.
    Importing it again stores only what changed. See docs/imports.md.
    """
    from pydantic import TypeAdapter, ValidationError

    from services.case_source import SourceUnreadable, read_source
    from services.ingest.case_package import read_package
    from services.ingest.case_rules import rule_choice
    from services.ingest.case_tree import PackageRefused
    from services.inputs import Time

    if rule is None and rules is None:
        die("give --rule JSON or --rules FILE: every objective needs a mastery rule")
    start = None
    if effective_from is not None:
        try:
            start = TypeAdapter(Time).validate_python(effective_from)
        except ValidationError as e:
            die(f"--effective-from: {e.errors()[0]['msg']}, got {effective_from!r}")
    try:
        choice = rule_choice(rule, _read(rules, "--rules") if rules else None, f"--rules {rules}")
    except PackageRefused as e:
        _refuse("the rules", e.problems)
    try:
        data = read_source(source)
    except SourceUnreadable as e:
        die(str(e))
    try:
        plan = read_package(data, choice, start)
    except PackageRefused as e:
        _refuse(source, e.problems)
    what = f"{len(plan.objectives):,} objectives from {plan.title!r}"
    ignored = ", ".join(f"{n} {kind}" for kind, n in plan.ignored.items())
    notes = (
        f"{plan.prerequisites:,} prerequisites; {plan.groupings:,} groupings (courses, units) not objectives"
    )
    notes += f"; associations ignored: {ignored}" if ignored else ""
    if check:
        print(f"{source}: {what} ready to import ({notes}); nothing was stored")
        return
    done = _write(data_dir, plan)
    print(
        f"imported {what}: {done.created:,} created, {done.changed:,} changed, {done.unchanged:,} unchanged "
        f"({notes}); log position {done.position:,}"
    )


def _write(data_dir: Path | None, plan: Plan) -> Imported:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from services.cli_store import existing_ledger
    from services.ingest.case_import import ImportStopped, write_plan

    ledger = existing_ledger(data_dir)
    columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    try:
        with Progress(*columns, console=Console(stderr=True)) as bar:
            task = bar.add_task("import", total=len(plan.objectives))
            return write_plan(ledger.roster, plan, lambda n: bar.update(task, completed=n))
    except ImportStopped as e:
        die(str(e))
    finally:
        ledger.close()
