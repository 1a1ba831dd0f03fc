"""The position watcher behind `?min_position=` waits (services/waiting.py):
waiters are futures on the event loop, woken by one poll for all of them."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from services.waiting import PositionWatcher, TooManyWaiting

LONG = 30.0  # a wait that is expected to end by being woken, long before this
HOUR = 3600.0  # a poll interval that never elapses within a test


class Log:
    """A log position that the test moves, counting how often it is read."""

    def __init__(self, position: int = 0) -> None:
        self.position = position
        self.reads = 0
        self.failures = 0

    def read(self) -> int:
        self.reads += 1
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database went away")
        return self.position


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(scenario())


async def until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.001)


def test_waiters_wake_when_their_position_is_reached_and_others_time_out() -> None:
    async def scenario() -> None:
        log = Log()
        watcher = PositionWatcher(log.read, limit=3, interval=0.005)
        five = asyncio.create_task(watcher.wait_for(5, LONG))
        ten = asyncio.create_task(watcher.wait_for(10, LONG))
        never = asyncio.create_task(watcher.wait_for(1000, 0.1))
        await until(lambda: watcher.waiting == 3)
        log.position = 7
        assert await five
        assert not ten.done()
        log.position = 10
        assert await ten
        assert not await never
        assert watcher.waiting == 0
        assert watcher.position == 10
        await watcher.close()

    run(scenario)


def test_one_waiter_beyond_the_limit_is_refused_at_once_and_a_freed_place_is_taken() -> None:
    async def scenario() -> None:
        watcher = PositionWatcher(Log().read, limit=2, interval=HOUR)
        first = asyncio.create_task(watcher.wait_for(1, LONG))
        second = asyncio.create_task(watcher.wait_for(1, LONG))
        await until(lambda: watcher.waiting == 2)
        with pytest.raises(TooManyWaiting):
            await watcher.wait_for(1, LONG)
        first.cancel()  # a client that hangs up leaves its place
        with pytest.raises(asyncio.CancelledError):
            await first
        assert watcher.waiting == 1
        third = asyncio.create_task(watcher.wait_for(1, LONG))
        await until(lambda: watcher.waiting == 2)
        second.cancel()
        third.cancel()
        await asyncio.gather(second, third, return_exceptions=True)
        assert watcher.waiting == 0
        await watcher.close()

    run(scenario)


def test_a_limit_of_zero_refuses_every_wait() -> None:
    async def scenario() -> None:
        watcher = PositionWatcher(Log().read, limit=0)
        with pytest.raises(TooManyWaiting):
            await watcher.wait_for(1, LONG)
        await watcher.close()

    run(scenario)


def test_the_position_is_read_only_while_someone_waits() -> None:
    async def scenario() -> None:
        log = Log()
        watcher = PositionWatcher(log.read, limit=4, interval=0.001)
        await asyncio.sleep(0.05)
        assert log.reads == 0
        waiters = [asyncio.create_task(watcher.wait_for(3, LONG)) for _ in range(4)]
        await until(lambda: log.reads >= 3)
        log.position = 3
        assert all(await asyncio.gather(*waiters))
        # One poll serves every waiter: four waiters do not read four times as often.
        reads = log.reads
        await asyncio.sleep(0.05)
        assert log.reads == reads
        await watcher.close()

    run(scenario)


def test_a_nudge_from_another_thread_polls_at_once() -> None:
    async def scenario() -> None:
        log = Log()
        watcher = PositionWatcher(log.read, limit=1, interval=HOUR)
        waiter = asyncio.create_task(watcher.wait_for(1, LONG))
        await until(lambda: log.reads == 1)  # the poll a new waiter starts
        log.position = 1
        runner = threading.Thread(target=watcher.nudge)  # as the projection runner does after a batch
        runner.start()
        runner.join()
        assert await waiter
        await watcher.close()

    run(scenario)


def test_a_failed_poll_is_retried_and_the_wait_goes_on() -> None:
    async def scenario() -> None:
        log = Log(position=2)
        log.failures = 1
        watcher = PositionWatcher(log.read, limit=1, interval=HOUR)
        waiter = asyncio.create_task(watcher.wait_for(2, LONG))
        await until(lambda: log.reads == 1)
        assert not waiter.done()
        watcher.nudge()
        assert await waiter
        await watcher.close()

    run(scenario)


def test_a_nudge_with_nobody_waiting_does_nothing() -> None:
    log = Log()
    PositionWatcher(log.read, limit=1).nudge()
    assert log.reads == 0
