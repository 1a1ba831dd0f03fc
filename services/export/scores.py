"""A score as typed columns: what was recorded, and the same on a 0-1 scale.

An attempt's score is exactly one of correct of total, a percent, or a rubric
level; a benchmark's result is correct of total. The columns keep what was
sent (the others null) and add `score`, comparable across all three:
correct/total, percent/100, or a rubric level's rank among the levels of the
objective's rule, (index) / (levels - 1), lowest 0 and highest 1. A level
means something only under a rule, so the rule is the version in force when
the event occurred, as known at the export's start: the version the status
of that moment was judged by (services/replay.py's audit trail). A level that
rule does not define, or an objective without a rule, leaves `score` null.
The time limit plays no part: a late piece keeps its score here (the status
may still not count it; `explain` says why).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from domain.records import Score
from domain.rules.assessment import normalised_score
from domain.rules.model import Rule
from domain.rules.versions import RuleVersion, rule_in_force

NO_SCORE: dict[str, Any] = dict.fromkeys(("correct", "total", "percent", "rubric_level", "score"))


def score_columns(score: Mapping[str, Any] | None, rule: Rule | None) -> dict[str, Any]:
    if not score:
        return NO_SCORE
    s = Score.from_dict(score)
    if s.total is not None and s.correct is not None:
        value: float | None = s.correct / s.total
    elif s.percent is not None:
        value = s.percent / 100
    else:
        value = normalised_score(s, rule) if rule is not None else None
    return {
        "correct": s.correct,
        "total": s.total,
        "percent": float(s.percent) if s.percent is not None else None,
        "rubric_level": s.rubric_level,
        "score": value,
    }


def rule_at(versions: Sequence[RuleVersion], occurred_at: datetime) -> Rule | None:
    """The rule a score of `occurred_at` is read under (None: the objective has none)."""
    version = rule_in_force(versions, occurred_at)
    return version.rule if version is not None else None


def result_columns(result: Mapping[str, Any]) -> dict[str, Any]:
    """One benchmark result ({objective_id, correct, total}) as score columns."""
    return score_columns({"correct": result.get("correct"), "total": result.get("total")}, None)
