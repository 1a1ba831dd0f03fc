"""`mastery verify`: check the event log against its hash chains and the event
index (services/verify.py), with a progress bar."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from services.verify import StreamBroken


def verify(
    student: Annotated[
        str | None, typer.Option("--student", help="only this student's streams (default: every stream)")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="embedded store directory (MASTERY_DATA_DIR)")
    ] = None,
) -> None:
    """Check every stream's hash chain, and each student's learning events against the event index.

    Exit status 0 when everything verifies; 1 naming the first altered,
    missing or reordered event (stream, version, event_id); 2 for a store or
    a student that does not exist.
    """
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

    from services.cli_store import die, existing_ledger
    from services.verify import StreamBroken, UnknownStudent, Verifier

    ledger = existing_ledger(data_dir)
    columns = (
        TextColumn("verifying"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f} events"),
        TextColumn("{task.fields[rate]:,.0f} events/s"),
        TimeRemainingColumn(),
    )
    # Shown from the first page read: a refusal is then the one line it is.
    bar = Progress(*columns, console=Console(stderr=True))
    task: TaskID | None = None
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        nonlocal task
        if task is None:
            bar.start()
            task = bar.add_task("verify", total=max(total, 1), rate=0.0)
        rate = done / max(time.perf_counter() - started, 1e-6)  # the whole run's, as `rebuild` shows it
        bar.update(task, completed=min(done, total), total=max(total, 1), rate=rate)

    verifier = Verifier(ledger.store, progress)
    try:
        try:
            report = verifier.verify_all() if student is None else verifier.verify_student(student)
        finally:
            # Stopped before anything is said: the last line is the verdict. (Stopping
            # a bar never started would still print a line.)
            if task is not None:
                bar.stop()
    except UnknownStudent:
        die(f"no student {student!r}: neither the event log nor the event index holds anything of it")
    except StreamBroken as e:
        exit_broken(e, "the event log")
    finally:
        ledger.close()
    whose = "" if student is None else f" of student {student}"
    print(
        f"verified: {_count(report.events, 'event')} in {_count(report.streams, 'stream')}{whose} up to "
        f"log position {report.upto:,}, and the learning events of {_count(report.students, 'student')} "
        f"against the event index, in {report.seconds:.1f} s ({report.rate:,.0f} events/s)"
    )


def _count(n: int, thing: str) -> str:
    return f"{n:,} {thing}{'' if n == 1 else 's'}"


def exit_broken(error: StreamBroken, what: str) -> NoReturn:
    """What `verify` and `replay` say of a stream that fails: one line naming
    the first event that does not verify, on stderr, and exit status 1."""
    print(f"mastery: {what} does not verify: {error}", file=sys.stderr)
    raise typer.Exit(1)
