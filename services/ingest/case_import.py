"""Writing a CASE package's objectives (services/ingest/case_package.py) through
the path PUT /v1/objectives takes, so that the same checks apply and a
re-import records only what changed (the Objective aggregate's `revise`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from services.errors import ProblemError
from services.ingest.case_package import Plan
from services.ingest.roster import RosterWriter


class ImportStopped(Exception):
    """A write refused or failed midway (the package was checked whole before:
    a busy store, another writer's change in between)."""

    def __init__(self, objective_id: str, written: int, detail: str) -> None:
        super().__init__(
            f"stopped at objective {objective_id!r} after {written:,} written: {detail}; "
            "what was written stays, and the same import again completes it"
        )


@dataclass
class Imported:
    created: int = 0
    changed: int = 0  # a new statement, place or prerequisites, or a new rule version
    unchanged: int = 0
    position: int = 0  # of the event log after the last write


def write_plan(
    roster: RosterWriter, plan: Plan, progress: Callable[[int], None] = lambda _: None
) -> Imported:
    """One objective after the other, prerequisites first (the plan's order):
    each write finds its prerequisites stored. An interruption leaves what was
    written; the same import again writes the rest and nothing twice."""
    out = Imported()
    for done, (objective_id, body) in enumerate(plan.objectives, start=1):
        try:
            written = roster.put_objective(objective_id, body)
        except ProblemError as e:
            raise ImportStopped(objective_id, done - 1, e.detail) from e
        if written.created:
            out.created += 1
        elif written.changed:
            out.changed += 1
        else:
            out.unchanged += 1
        out.position = max(out.position, written.position)
        progress(done)
    return out
