"""A fresh store for one bench run, on either backend."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.postgres import fresh_database
from infra.settings import Settings, load_settings


@contextlib.contextmanager
def fresh_store(
    backend: str, data_dir: Path | None = None, keep: bool = False, **settings: Any
) -> Iterator[Settings]:
    """Settings for an empty store: SQLite in `data_dir` (a temporary folder
    unless given), or PostgreSQL in a new database (dropped afterwards unless
    `keep`) with its trust store in `data_dir`. `settings` are passed on."""
    with contextlib.ExitStack() as stack:
        if data_dir is None:
            data_dir = (
                Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mastery-bench-"))) / "data"
            )
        if backend != "sqlite":
            settings["database_url"] = stack.enter_context(fresh_database(keep))
        yield load_settings(data_dir=data_dir, **settings)
