"""Reads that wait for the read models (`?min_position=`) without holding anything.

A waiting read used to hold a worker thread and a read-model connection while
it polled; forty-five of them emptied the SQLite pool (500s) and made every
other read queue behind them. Here a waiting read is a future on the event
loop. One `PositionWatcher` per app polls the read models' position in one
statement on a thread of its own, only while someone waits, and resolves the
futures whose position is reached. In the process that runs the projections
the runner nudges it after each batch, so a wait ends as the batch commits;
elsewhere (role `query`) the database is the only signal and the poll is it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

log = logging.getLogger(__name__)

POLL_INTERVAL = 0.02  # what each waiting read polled at before; now once for all of them
RETRY_AFTER_ERROR = 1.0  # a database that fails the poll is not asked fifty times a second


class TooManyWaiting(Exception):
    """As many reads wait as the process admits; the caller answers 503 at once."""


@dataclass(eq=False)
class _Waiter:
    position: int
    done: asyncio.Future[None]


class PositionWatcher:
    """Wakes the reads waiting for the read models to reach a position.

    `read_position` returns the position every read model has reached (a
    blocking database query). It runs on the watcher's own thread, so a pool
    of threads busy with reads cannot hold the waits back, and the watcher
    holds a connection only for that one statement. Bound to the event loop
    of the app that creates it (in its lifespan).
    """

    def __init__(self, read_position: Callable[[], int], limit: int, interval: float = POLL_INTERVAL) -> None:
        self.read_position = read_position
        self.limit = limit
        self.interval = interval
        self.position = 0  # the last position polled: what a 503 tells the client
        self._waiters: list[_Waiter] = []
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="position-watcher")

    @property
    def waiting(self) -> int:
        """How many reads wait (each counts against `limit`)."""
        return len(self._waiters)

    async def wait_for(self, position: int, timeout: float) -> bool:
        """Whether the read models reach `position` within `timeout` seconds.
        Raises TooManyWaiting, without waiting, when `limit` reads already do."""
        if len(self._waiters) >= self.limit:
            raise TooManyWaiting
        loop = asyncio.get_running_loop()
        waiter = _Waiter(position, loop.create_future())
        self._waiters.append(waiter)
        self._ensure_polling(loop)
        try:
            async with asyncio.timeout(timeout):
                await waiter.done
            return True
        except TimeoutError:
            # Woken and timed out in the same turn of the loop: it was reached.
            return waiter.done.done() and not waiter.done.cancelled()
        finally:
            if waiter in self._waiters:  # the poll removes the ones it wakes
                self._waiters.remove(waiter)

    def nudge(self) -> None:
        """Poll now rather than at the next tick. Called from the projection
        runner's thread after each batch it commits."""
        loop = self._loop
        if loop is None or self._task is None:
            return  # nobody waits
        # RuntimeError: the loop has closed (an app shutting down), nobody is left to wake.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._wake.set)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._thread.shutdown(wait=False)

    def _ensure_polling(self, loop: asyncio.AbstractEventLoop) -> None:
        self._wake.set()  # a new waiter is answered by a fresh poll, not the last one
        if self._task is None:
            self._loop = loop
            self._task = loop.create_task(self._poll(), name="position-watcher")

    async def _poll(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._waiters:
                self._wake.clear()
                pause = self.interval
                try:
                    self.position = await loop.run_in_executor(self._thread, self.read_position)
                except Exception:  # the waits time out (503); reads without a wait are not affected
                    log.warning("could not read the read models' position; retrying", exc_info=True)
                    pause = RETRY_AFTER_ERROR
                still: list[_Waiter] = []
                for w in self._waiters:
                    if w.position <= self.position:
                        if not w.done.done():
                            w.done.set_result(None)
                    else:
                        still.append(w)
                self._waiters = still
                # Nothing awaits between this test and the end of the task, so a
                # waiter that arrives after it finds no task and starts one.
                if not self._waiters:
                    break
                try:
                    async with asyncio.timeout(pause):
                        await self._wake.wait()
                except TimeoutError:
                    pass
        finally:
            self._task = None
