"""How the `mastery` commands that read a store open it.

They name the store they opened on stderr (a path, or a PostgreSQL host and
database, never a password), and refuse an embedded data dir that does not
exist or holds no event store, or a PostgreSQL database without the event
log: opening either would create an empty store silently, and a mistyped
`--data-dir` would then answer "no student" or an empty export instead of
naming the mistake. `serve` and `demo` create their store on purpose and do
not come here.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from infra.settings import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from services.bootstrap import Ledger

# The option of every command that opens an existing store.
DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="embedded store directory (MASTERY_DATA_DIR)")
]


def die(message: str) -> NoReturn:
    # One plain line, never wrapped: scripts and people both read it.
    print(f"mastery: {' '.join(message.split())}", file=sys.stderr)
    raise typer.Exit(2)


def load(data_dir: Path | None) -> Settings:
    try:
        return load_settings(**({"data_dir": data_dir} if data_dir else {}))
    except ConfigError as e:
        die(str(e))


def existing_settings(data_dir: Path | None) -> Settings:
    """The settings of a store that exists, announced on stderr; exit 2 otherwise."""
    settings = load(data_dir)
    if settings.embedded:
        where = settings.data_dir.resolve()
        settings = settings.model_copy(update={"data_dir": where})
        if not where.is_dir():
            die(f"no store at {where}: the directory does not exist (give --data-dir or MASTERY_DATA_DIR)")
        if not settings.events_path.is_file():
            die(f"no store at {where}: it holds no event store ({settings.events_path.name})")
    else:
        from infra.eventstore import postgres_holds_event_store

        assert settings.database_url is not None  # not embedded
        try:
            found = postgres_holds_event_store(settings.database_url)
        except ConfigError as e:
            die(str(e))
        if not found:
            die(f"no store in {settings.describe_store()}: the database holds no event store")
    print(f"mastery: store: {settings.describe_store()}", file=sys.stderr)
    return settings


def existing_ledger(data_dir: Path | None) -> Ledger:
    """The ledger over a store that exists (see `existing_settings`)."""
    from services.bootstrap import build_ledger

    settings = existing_settings(data_dir)
    try:
        return build_ledger(settings)
    except ConfigError as e:
        die(str(e))
