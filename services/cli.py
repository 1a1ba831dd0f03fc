"""The `mastery` console script (CONTRACT.md §1)."""

from __future__ import annotations

import logging
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from infra.settings import ROLES, ConfigError, Settings
from services.cli_store import DataDir, existing_ledger
from services.cli_store import die as _die
from services.cli_store import load as _settings
from services.cli_table import history_table
from services.erase_cli import erase
from services.export_cli import export
from services.import_cli import import_app
from services.projections_cli import projections_app
from services.relay_cli import relay_reset
from services.token_cli import token_app
from services.verify_cli import exit_broken, verify

if TYPE_CHECKING:
    from services.bootstrap import Ledger

SCALABLE_ROLES = ("ingest", "query")

app = typer.Typer(help="Mastery Ledger: an event-sourced learning-record store.", no_args_is_help=True)
app.add_typer(token_app, name="token")
app.add_typer(projections_app, name="projections")
app.add_typer(import_app, name="import")
app.command("erase")(erase)
app.command()(verify)
app.command("export")(export)
app.command("relay-reset")(relay_reset)
err = Console(stderr=True)
out = Console()



def _ledger(settings: Settings) -> Ledger:
    from services.bootstrap import build_ledger

    try:
        return build_ledger(settings)
    except ConfigError as e:
        _die(str(e))


def _parse_time(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        _die(f"{option} must be an RFC 3339 time, got {value!r}")
    if t.tzinfo is None:
        _die(f"{option} needs an offset (e.g. 2026-09-14T09:30:00-05:00), got {value!r}")
    return t


@app.command()
def serve(
    data_dir: DataDir = None,
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    role: Annotated[str, typer.Option(help="all | ingest | relay | projections | query")] = "all",
    workers: Annotated[
        int,
        typer.Option(help="processes serving the port (roles ingest and query, which keep no state)", min=1),
    ] = 1,
) -> None:
    """Run the service (default role `all`: ingest + projections + query in one process)."""
    if role not in ROLES:
        _die(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if workers > 1 and role not in SCALABLE_ROLES:
        once = "publishes the log to Kafka" if role == "relay" else "runs the projections"
        _die(f"--workers {workers} needs --role ingest or query; role {role!r} {once}, once")
    settings = _settings(data_dir)
    if role == "relay" and not settings.kafka_bootstrap:
        _die("role 'relay' publishes the event log to Kafka: set MASTERY_KAFKA_BOOTSTRAP (host:port)")
    _run(settings, role, host, port, workers=workers)


def _run(
    settings: Settings, role: str, host: str, port: int, ledger: Ledger | None = None, workers: int = 1
) -> None:
    import uvicorn

    from infra.logs import configure_logging
    from services.app import create_app, tune_collector

    configure_logging(settings.log_format, role)
    built = ledger or _ledger(settings)  # connect now, so bad config fails before serving
    banner = (
        f"Mastery Ledger ({role}{f', {workers} processes' if workers > 1 else ''}) on http://{host}:{port}"
        f"  store: {settings.describe_store()}"
    )
    if settings.log_format == "json":
        logging.getLogger("services.cli").info(banner)  # one JSON object a line, this one too
    else:
        err.print(banner)
    if workers > 1:
        # Each worker process builds its own app from the environment (the one
        # settings object reads it); this process only supervises them.
        built.close()
        os.environ["MASTERY_DATA_DIR"] = str(settings.data_dir)
        uvicorn.run(
            f"services.app:{role}_app",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_level="warning",
            log_config=None,  # keep configure_logging's handlers (MASTERY_LOG_FORMAT)
        )
        return
    web_app = create_app(settings, role, built)
    tune_collector()
    uvicorn.run(web_app, host=host, port=port, log_level="warning", log_config=None)


@app.command()
def demo(
    students: Annotated[int, typer.Option(help="how many students", min=10)] = 300,
    seed: Annotated[int, typer.Option(help="the same seed gives the same district")] = 7,
    data_dir: Annotated[Path, typer.Option("--data-dir", help="where the demo store lives")] = Path(
        ".mastery"
    ),
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    serve_it: Annotated[bool, typer.Option("--serve/--no-serve", help="serve after loading")] = True,
) -> None:
    """Generate a demo district (deterministic for a seed) into the embedded store and serve it."""
    from services.demo.prepare import DemoMismatchError, demo_tokens, prepare
    from services.ports import port_busy

    settings = _settings(data_dir)
    if not settings.embedded:
        _die("mastery demo runs on the embedded store; unset MASTERY_DATABASE_URL")
    if serve_it and (busy := port_busy(host, port)):  # before loading or announcing anything
        _die(f"{busy}; stop what listens there or give --port")
    ledger = _ledger(settings)
    try:
        loaded, district, holders = prepare(ledger, data_dir, students, seed, err)
    except DemoMismatchError as e:
        ledger.close()
        _die(str(e))
    tokens = demo_tokens(ledger, district, holders)
    base = f"http://{host}:{port}"
    out.print(
        ("Loaded" if loaded else "Reusing")
        + f" the demo district in {data_dir} (seed {seed}, {students} students)"
    )
    out.print(f"Dashboards: {base}/   (sign in with a token below)", highlight=False)
    out.print(f"API: {base}/v1   docs: {base}/docs")
    for t in tokens:
        scope = f" ({', '.join(t.scopes)})" if t.scopes else ""
        out.print(f"  {t.role:<8} {t.token}{scope}", highlight=False, soft_wrap=True)
    first_student = holders.student
    out.print(
        f'Try: curl -H "Authorization: Bearer {tokens[0].token}" {base}/v1/students/{first_student}/mastery',
        highlight=False,
        soft_wrap=True,
    )
    if not serve_it:
        ledger.close()
        return
    _run(settings, "all", host, port, ledger)


@app.command()
def rebuild(
    projection: Annotated[
        list[str] | None, typer.Option("--projection", help="only this read model (repeatable); default all")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="processes for the bulk load (MASTERY_REBUILD_WORKERS; default one per CPU on "
            "PostgreSQL, one on SQLite)",
            min=1,
        ),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Rebuild read models from the event log; serving continues on the old ones meanwhile."""
    from infra.exclusive import AlreadyRunning
    from services.cli_progress import events_bar
    from services.projections.rebuild import rebuild as run_rebuild
    from services.projections.rebuild import select_projections

    ledger = existing_ledger(data_dir)
    try:
        try:
            select_projections(ledger, projection or [])
        except ValueError as e:
            _die(str(e))
        try:
            with events_bar("rebuilding") as progress:
                report = run_rebuild(ledger, projection or [], progress, workers)
        except AlreadyRunning as e:
            _die(str(e))
    finally:
        ledger.close()
    out.print(
        f"rebuilt {', '.join(report.projections)}: {report.events:,} events in {report.seconds:.1f} s "
        f"({report.rate:,.0f} events/s)"
    )


@app.command()
def replay(
    student_id: str,
    as_of: Annotated[str | None, typer.Option("--as-of", help="only what occurred at or before T")] = None,
    known_at: Annotated[
        str | None, typer.Option("--known-at", help="only what was recorded at or before T")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Print a student's history and the status after each event."""
    t_as_of = _parse_time(as_of, "--as-of")
    t_known = _parse_time(known_at, "--known-at")
    ledger = existing_ledger(data_dir)
    from services.replay import Replayer, student_exists
    from services.verify import StreamBroken

    try:
        if not student_exists(ledger.store, student_id):
            _die(f"no student {student_id!r}")
        rows = Replayer(ledger.store, ledger.catalog, ledger.keys).history(student_id, t_as_of, t_known)
    except StreamBroken as e:  # an altered history is not shown (docs/security.md)
        exit_broken(e, f"the history of {student_id!r}")
    finally:
        ledger.close()
    out.print(f"History of {student_id}", highlight=False, markup=False)
    out.file.write(history_table(rows))
    out.print(f"{len(rows)} events", highlight=False)


def main() -> None:
    try:
        app()
    except ConfigError as e:  # raised lazily by a command
        print(f"mastery: {' '.join(str(e).split())}", file=sys.stderr)
        sys.exit(2)
