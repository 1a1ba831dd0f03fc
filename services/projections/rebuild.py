"""Rebuild read models from the event log without stopping service.

Fresh copies of a projection's tables are built while the live tables keep
serving and the live runner keeps them current:

1. the log up to its head when the rebuild starts is read in stream order,
   in chunks that each hold whole streams, and loaded into the copies
   (`Projection.load`): every student is computed once, from its complete
   history, where log order would recompute it in every batch it appears in;
2. the copies then tail the log from that head like the live runner does;
3. one transaction locks the live tracking rows (the live runner waits),
   applies the last few events to the copies, renames the copies into place
   and moves the live tracking position to theirs.

An event that cannot be applied is set aside in every phase as the live
runner sets it aside (services/projections/isolate.py); at the switch the
copies' set-aside events replace the live ones, so live and rebuilt read
models agree on what was applied.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, inspect

from infra.exclusive import exclusive
from infra.readstore import analyze, create_tables, swap_tables
from infra.tracking import (
    forget_position,
    forget_prefixed_positions,
    lock_every_source,
    set_position,
    tracked_position,
)
from services.projections.base import Projection
from services.projections.bulk_load import load_first, load_parallel, load_streams
from services.projections.parked import forget_prefixed, hand_over
from services.projections.runner import ProjectionRunner
from services.projections.wiring import Wiring

Progress = Callable[[int, int], None]  # (log entries done, log head when started)


@dataclass(frozen=True)
class RebuildReport:
    projections: tuple[str, ...]
    events: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


def select_projections(ledger: Wiring, names: Sequence[str]) -> list[Projection]:
    known = {p.name: p for p in ledger.runner.projections}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown projection {unknown[0]!r}; one of {', '.join(sorted(known))}")
    return [known[n] for n in names] if names else list(known.values())


SHADOW = "__r"  # fresh tables are named <table>__r<nanoseconds>


def rebuild(
    ledger: Wiring,
    names: Sequence[str] = (),
    progress: Progress | None = None,
    workers: int | None = None,
) -> RebuildReport:
    """Rebuild the named projections (all by default), the bulk load in
    `workers` processes (default: the settings'). One rebuild at a time per
    store (AlreadyRunning otherwise): this one first drops what an interrupted
    one left behind."""
    live = select_projections(ledger, names)
    with exclusive(ledger.settings, "rebuild"):
        return _rebuild(ledger, live, progress, workers)


def _rebuild(
    ledger: Wiring, live: Sequence[Projection], progress: Progress | None, workers: int | None
) -> RebuildReport:
    engine = ledger.engine
    _drop_leftovers(engine, live)
    suffix = f"{SHADOW}{time.time_ns()}"
    shadows = [p.shadow(suffix) for p in live]
    create_tables(engine, [t for s in shadows for t in s.tables])
    batch = ledger.settings.rebuild_batch_size
    runner = ProjectionRunner(ledger.store, engine, shadows, batch)
    head = ledger.store.head_position()
    started = time.perf_counter()
    processes = workers or ledger.settings.rebuild_processes()
    load_first(ledger, shadows, head, batch)

    def report(total: int) -> None:
        if progress:
            progress(total, head)

    if processes > 1:
        names = [p.name for p in live]
        done = load_parallel(ledger.builder, ledger.settings, names, suffix, head, batch, processes, report)
    else:
        loaded = 0

        def add(n: int) -> None:
            nonlocal loaded
            loaded += n
            report(loaded)

        done = load_streams(ledger, shadows, head, batch, loaded=add)
    analyze(engine, [t.name for s in shadows for t in s.tables])
    with engine.begin() as conn:
        for s in shadows:
            set_position(conn, s.name, head)
    while n := runner.step():
        done += n
        if progress:
            progress(done, head)

    with engine.begin() as conn:
        # Every source's rows: with Kafka, the workers of every partition wait.
        lock_every_source(conn, [p.name for p in live])
        while n := runner.step(conn):
            done += n
        for p, s in zip(live, shadows, strict=True):
            for live_table, fresh in zip(p.tables, s.tables, strict=True):
                swap_tables(conn, live_table.name, fresh.name, live_table.name + suffix + "_old")
            set_position(conn, p.name, tracked_position(conn, s.name))
            forget_position(conn, s.name)
            hand_over(conn, s.name, p.name)
    if engine.dialect.name == "sqlite":
        # SQLite keeps statistics by table name, and a rename leaves them behind.
        analyze(engine, [t.name for p in live for t in p.tables])
    return RebuildReport(tuple(p.name for p in live), done, time.perf_counter() - started)


def _drop_leftovers(engine: Engine, live: Sequence[Projection]) -> None:
    """Fresh tables and tracking rows of a rebuild that never reached its switch."""
    prefixes = tuple(t.name + SHADOW for p in live for t in p.tables)
    stale = [name for name in inspect(engine).get_table_names() if name.startswith(prefixes)]
    with engine.begin() as conn:
        for name in stale:
            conn.exec_driver_sql(f"DROP TABLE {conn.dialect.identifier_preparer.quote(name)}")
        for p in live:
            forget_prefixed_positions(conn, p.name + SHADOW)
            forget_prefixed(conn, p.name + SHADOW)
