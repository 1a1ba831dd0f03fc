"""The rebuild's bulk load: the log up to a head, in stream order, into fresh tables.

Chunks hold whole streams and streams are independent of one another, so the
stream-id space can be cut into ranges and loaded by several processes at
once (each with its own connections; PostgreSQL takes concurrent COPYs into
one table). One process does the same work in order.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from multiprocessing.queues import Queue
from queue import Empty

from sqlalchemy import Engine, select
from sqlalchemy.engine import Connection

from infra.eventstore import LedgerStore
from infra.exclusive import schema_turn
from infra.parent_death import die_with_parent
from infra.recorders import END_OF_STREAMS, FIRST_STREAM, StreamRange, stream_ranges
from infra.settings import Settings
from infra.tracking import FIRST, projection_positions, set_position, tracked_position, write_first
from services.projections.base import Projection
from services.projections.batch import dispatch
from services.projections.isolate import Isolation, attempt, stream_of
from services.projections.parked import set_aside
from services.projections.wiring import Wiring

RANGES_PER_WORKER = 4  # smaller ranges even out students of very different sizes


def load_streams(
    ledger: Wiring,
    shadows: Sequence[Projection],
    head: int,
    chunk: int,
    streams: StreamRange = (FIRST_STREAM, END_OF_STREAMS),
    loaded: Callable[[int], object] | None = None,
) -> int:
    """Load the streams of a range up to `head`, one transaction per chunk;
    `loaded` hears how many log entries each chunk held. An event that cannot
    be loaded is set aside with the rest of its stream, as the live runner
    does (services/projections/isolate.py)."""
    done = 0
    for part in ledger.store.streams_upto(head, chunk, streams):
        with ledger.engine.begin() as conn:
            write_first(conn)
            for shadow, mine in zip(shadows, dispatch(ledger.store, part, shadows), strict=True):
                if mine:
                    # A chunk holds whole streams that no other chunk holds: nothing is held yet.
                    isolation = Isolation(shadow.name, {})
                    isolation.load(conn, shadow.load, mine)
                    set_aside(conn, shadow.name, isolation.set_aside)
        done += len(part)
        if loaded:
            loaded(len(part))
    return done


def load_first(ledger: Wiring, shadows: Sequence[Projection], upto: int, chunk: int) -> None:
    """Apply each projection's `first` topics up to `upto`, in log order,
    before the bulk load (whose streams, in any order and process, read what
    they build). An event that fails here is skipped with the rest of its
    stream: the bulk load meets it again in its stream and sets it aside."""
    for p in shadows:
        if p.first:
            apply_first(ledger.store, ledger.engine, p, upto, chunk)


def apply_first(store: LedgerStore, engine: Engine, p: Projection, upto: int, chunk: int) -> None:
    failed: set[str] = set()
    start = 0
    while page := store.recorder.select_notifications(
        start, chunk, stop=upto, topics=sorted(p.first), inclusive_of_start=False
    ):
        with engine.begin() as conn:
            write_first(conn)
            for entry in dispatch(store, page, [p])[0]:
                stream = stream_of(entry)
                if stream not in failed and attempt(conn, p.apply, [entry]) is not None:
                    failed.add(stream)
        start = page[-1].id


def adopt_first_topics(
    store: LedgerStore, engine: Engine, projections: Sequence[Projection], settings: Settings
) -> None:
    """A store from before a projection read its `first` topics itself (the
    mastery projection's rule versions) has positions but nothing they build:
    apply them once, up to its position. A `FIRST` tracking row says it is done."""
    pending = [p for p in projections if p.first]
    if not pending:
        return
    with engine.connect() as conn:
        if all(_has_first(conn, p.name) for p in pending):
            return
    with schema_turn(settings):
        for p in pending:
            with engine.connect() as conn:
                upto, done = tracked_position(conn, p.name), _has_first(conn, p.name)
            if done:
                continue
            if upto:
                apply_first(store, engine, p, upto, 2000)
            with engine.begin() as conn:
                set_position(conn, p.name, upto, FIRST)


def _has_first(conn: Connection, name: str) -> bool:
    t = projection_positions
    q = select(t.c.position).where(t.c.projection == name, t.c.source == FIRST)
    return conn.execute(q).first() is not None


def load_parallel(
    build: Callable[[Settings], Wiring],
    settings: Settings,
    names: Sequence[str],
    suffix: str,
    head: int,
    chunk: int,
    workers: int,
    progress: Callable[[int], None],
) -> int:
    """`load_streams` over `workers` processes, each wired by `build`;
    `progress` hears the running total."""
    ctx = multiprocessing.get_context("spawn")  # no inherited connections or threads
    queue: Queue[int] = ctx.Queue()
    done = 0
    with ProcessPoolExecutor(
        workers,
        mp_context=ctx,
        initializer=_start_worker,
        initargs=(os.getpid(), build, settings, tuple(names), suffix, queue),
    ) as pool:
        futures = [
            pool.submit(_load_range, r, head, chunk) for r in stream_ranges(workers * RANGES_PER_WORKER)
        ]
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, timeout=0.2, return_when=FIRST_EXCEPTION)
            for f in finished:
                f.result()  # a worker's error stops the rebuild here
            done += _drain(queue, progress, done)
        done = sum(f.result() for f in futures)
    progress(done)
    return done


def _drain(queue: Queue[int], progress: Callable[[int], None], done: int) -> int:
    added = 0
    while True:
        try:
            added += queue.get_nowait()
        except Empty:
            break
    if added:
        progress(done + added)
    return added


_worker: tuple[Wiring, list[Projection], Queue[int]] | None = None


def _start_worker(
    parent: int,
    build: Callable[[Settings], Wiring],
    settings: Settings,
    names: tuple[str, ...],
    suffix: str,
    queue: Queue[int],
) -> None:
    from multiprocessing.util import Finalize

    from services.projections.rebuild import select_projections

    die_with_parent(parent)  # a killed rebuild leaves no worker holding connections
    global _worker  # noqa: PLW0603 -- the state of this pool worker process
    ledger = build(settings)
    Finalize(ledger, ledger.close, exitpriority=10)  # close connections when the worker exits
    _worker = (ledger, [p.shadow(suffix) for p in select_projections(ledger, names)], queue)


def _load_range(streams: StreamRange, head: int, chunk: int) -> int:
    assert _worker is not None, "not a rebuild worker"
    ledger, shadows, queue = _worker
    return load_streams(ledger, shadows, head, chunk, streams, queue.put)
