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

from infra.parent_death import die_with_parent
from infra.recorders import END_OF_STREAMS, FIRST_STREAM, StreamRange, stream_ranges
from infra.settings import Settings
from services.projections.base import Projection
from services.projections.isolate import Isolation
from services.projections.parked import set_aside
from services.projections.runner import dispatch
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
