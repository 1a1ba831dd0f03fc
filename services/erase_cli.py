"""`mastery erase STUDENT_ID --reason TEXT` (CONTRACT.md §1, §4): erasure by
crypto-shredding. The erasure is recorded in the student's profile stream
(who, when, why), then the student's key is destroyed; every seal under it
(the name, every free text) is unreadable from then on, wherever it was
copied. Learning events, statuses and aggregates stay."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from services.cli_store import DataDir, die, existing_ledger


def erase(
    student_id: Annotated[str, typer.Argument(metavar="STUDENT_ID")],
    reason: Annotated[
        str,
        typer.Option(
            "--reason",
            help="why (recorded with the erasure: an administrative reason, e.g. a request's reference, "
            "never the child's data)",
        ),
    ],
    by: Annotated[
        str | None, typer.Option("--by", help="who asks for it (default: the operating-system user)")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Erase a student's personal data (name, free text) by destroying their key."""
    from services.errors import ProblemError

    if not reason.strip():
        die("--reason must say why (it is recorded with the erasure)")
    ledger = existing_ledger(data_dir)
    try:
        who = f"admin:{by or getpass.getuser()}"
        out = ledger.roster.erase_student(student_id, who, reason.strip())
    except ProblemError as e:
        die(e.detail)
    finally:
        ledger.close()
    state = "erased" if out.changed else "was already erased; its key is destroyed"
    print(f"student {student_id} {state} (log position {out.position})")
