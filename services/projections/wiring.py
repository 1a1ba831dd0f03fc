"""What the rebuild takes from the composition root (services.bootstrap.Ledger).

It may not import it: the composition root imports every service, ingest
among them, and no service may import another (pyproject.toml's independence
contract). services/bootstrap.py's Ledger is held to this protocol by mypy
wherever it is passed to `rebuild`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from sqlalchemy import Engine

from infra.eventstore import LedgerStore
from infra.settings import Settings
from services.projections.runner import ProjectionRunner


class Wiring(Protocol):
    settings: Settings
    store: LedgerStore
    engine: Engine  # the read models
    runner: ProjectionRunner  # the live projections, whose copies a rebuild fills

    @property
    def builder(self) -> Callable[[Settings], Wiring]:
        """How a rebuild's worker process wires its own (a module-level
        function, so that it reaches the worker by reference)."""
        ...

    def close(self) -> None: ...
