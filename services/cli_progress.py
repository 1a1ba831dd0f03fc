"""The progress bar of the `mastery` commands that go through the log
(`rebuild`, `verify`): events done of the total, the whole run's rate."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn


@contextmanager
def events_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A `progress(done, total)` callback drawing a bar on stderr.

    The bar is shown from the first report, so a refusal before any (another
    rebuild running, an unknown student) is the one line it is; and stopped
    on leaving only if it was shown (stopping a bar never started still
    prints a line), before the command says its verdict.
    """
    columns = (
        TextColumn(label),
        BarColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f} events"),
        TextColumn("{task.fields[rate]:,.0f} events/s"),
        TimeRemainingColumn(),
    )
    bar = Progress(*columns, console=Console(stderr=True))
    task: TaskID | None = None
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        nonlocal task
        if task is None:
            bar.start()
            task = bar.add_task(label, total=max(total, 1), rate=0.0)
        # The whole run's rate: rich's own speed needs several updates, and
        # a small log is read in one.
        rate = done / max(time.perf_counter() - started, 1e-6)
        bar.update(task, completed=min(done, total), total=max(total, 1), rate=rate)

    try:
        yield progress
    finally:
        if task is not None:
            bar.stop()
