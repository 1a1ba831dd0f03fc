"""`mastery projections …`: the events the projections have set aside."""

from __future__ import annotations

from typing import Annotated

import typer

from services.cli_store import DataDir

projections_app = typer.Typer(help="Read-model projections.", no_args_is_help=True)


@projections_app.command("retry")
def retry(
    projection: Annotated[
        list[str] | None, typer.Option("--projection", help="only this read model (repeatable); default all")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Apply the events set aside (they could not be applied) again, after a fix.

    Those that now apply leave the set-aside table; those that fail again stay
    with their new error. Safe while the service runs. Exit status 0 when
    nothing remains set aside, 1 otherwise.
    """
    from services.cli_store import die, existing_ledger
    from services.projections.rebuild import select_projections
    from services.projections.retry import retry_parked

    ledger = existing_ledger(data_dir)
    try:
        try:
            chosen = select_projections(ledger, projection or [])
        except ValueError as e:
            die(str(e))
        outcomes = retry_parked(ledger.store, ledger.engine, chosen, ledger.settings.projection_batch_size)
    finally:
        ledger.close()
    for o in outcomes:
        line = f"{o.projection}: {o.applied} applied"
        if o.remaining:
            line += f", {o.remaining} still set aside"
            line += f" ({len(o.failed)} failed again, {o.held} held behind them)"
        else:
            line += ", nothing set aside"
        print(line)
        for item in o.failed:
            print(
                f"  log position {item.position}: {item.event_id or '-'} (stream {item.stream_id} "
                f"version {item.stream_version}, {item.topic}): {item.error_type}: {_first_line(item.error)}"
            )
    if any(o.remaining for o in outcomes):
        raise typer.Exit(1)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""
