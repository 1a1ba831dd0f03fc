"""Rule versions: an objective's rule as revised over time, each effective
from a moment, and which one is in force at a given time."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.rules.model import Rule


@dataclass(frozen=True, slots=True)
class RuleVersion:
    version: int
    rule: Rule
    effective_from: datetime
    recorded_at: datetime


def rule_in_force(versions: Sequence[RuleVersion], at: datetime) -> RuleVersion | None:
    """The latest version effective at `at`; before the first one, the first.

    Evidence recorded for dates before an objective's first rule (backfilled
    records) is judged by that first rule rather than by none.
    """
    if not versions:
        return None
    ordered = ordered_versions(versions)
    chosen = ordered[0]
    for v in ordered:
        if v.effective_from <= at:
            chosen = v
    return chosen


def ordered_versions(versions: Iterable[RuleVersion]) -> tuple[RuleVersion, ...]:
    """The versions in the order `rule_in_force` reads them: the one in force
    at a time is the last of those effective by then, or the first."""
    return tuple(sorted(versions, key=lambda v: (v.effective_from, v.version)))
