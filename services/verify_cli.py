"""`mastery verify`: check the event log against its hash chains and the event
index (services/verify.py), with a progress bar."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from services.cli_store import DataDir

if TYPE_CHECKING:
    from services.verify import StreamBroken


def verify(
    student: Annotated[
        str | None, typer.Option("--student", help="only this student's streams (default: every stream)")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Check every stream's hash chain, and each student's learning events against the event index.

    Exit status 0 when everything verifies; 1 naming the first altered,
    missing or reordered event (stream, version, event_id); 2 for a store or
    a student that does not exist.
    """
    from services.cli_progress import events_bar
    from services.cli_store import die, existing_ledger
    from services.verify import StreamBroken, UnknownStudent, Verifier

    ledger = existing_ledger(data_dir)
    try:
        with events_bar("verifying") as progress:
            verifier = Verifier(ledger.store, progress)
            report = verifier.verify_all() if student is None else verifier.verify_student(student)
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
