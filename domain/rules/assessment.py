"""Does one piece of evidence meet a rule's threshold, and why (not)?"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.records import Evidence, Score, percent_text
from domain.rules.model import CorrectOf, Percent, Rubric, Rule


@dataclass(frozen=True, slots=True)
class Assessment:
    """One piece of evidence judged against one rule version.

    `value` is the score normalised to 0–1 as the averaging methods use it
    (0 for a piece over the time limit); None when the score cannot be read
    under this rule (a rubric level the rule does not define).
    """

    event_id: str
    meets: bool
    value: float | None
    over_time: bool
    reason: str


def threshold_value(rule: Rule) -> float:
    """The threshold on the 0–1 scale the averaging methods compare against."""
    t = rule.threshold
    if isinstance(t, CorrectOf):
        return t.min_correct / t.of
    if isinstance(t, Percent):
        return t.min / 100
    return t.levels.index(t.min_level) / (len(t.levels) - 1)


def normalised_score(score: Score, rule: Rule) -> float | None:
    """The score on a 0–1 scale; a rubric level as its index over levels − 1."""
    if score.total is not None and score.correct is not None:
        return score.correct / score.total
    if score.percent is not None:
        return score.percent / 100
    t = rule.threshold
    if isinstance(t, Rubric) and score.rubric_level in t.levels:
        return t.levels.index(score.rubric_level) / (len(t.levels) - 1)
    return None


def score_text(value: float | None, levels: Sequence[str] | None = None) -> str | None:
    """A status's 0–1 score as a teacher reads it: under a rubric (its
    `levels`, lowest first), the level it stands for when it is one (a mean
    between levels stays a percent); otherwise a percent to one decimal.
    None without a score."""
    if value is None:
        return None
    if levels and len(levels) > 1:
        position = value * (len(levels) - 1)
        if abs(position - round(position)) < 1e-9:
            return levels[round(position)]
    return f"{percent_text(100 * value)} %"


# 80 % stored as 0.8 and 8/10 computed as 0.8 may differ in the last bit.
_EPS = 1e-12


def meets_threshold(score: Score, value: float, rule: Rule) -> bool:
    t = rule.threshold
    if isinstance(t, CorrectOf) and score.correct is not None and score.total is not None:
        # Exact: correct/total >= min_correct/of, without rounding.
        return score.correct * t.of >= t.min_correct * score.total
    return value + _EPS >= threshold_value(rule)


def time_allowed(evidence: Evidence, rule: Rule) -> float | None:
    if rule.time_limit_seconds is None:
        return None
    return rule.time_limit_seconds * max(evidence.extended_time_factor, 1.0)


def _over_time(evidence: Evidence, allowed: float | None) -> bool:
    duration = evidence.duration_seconds
    return allowed is not None and duration is not None and duration > allowed


def verdict_of(evidence: Evidence, rule: Rule) -> tuple[bool, float | None]:
    """`(meets, value)` of `assess` without the sentence: what a verdict needs.
    The audit replay judges thousands of pieces and never shows a reason."""
    if _over_time(evidence, time_allowed(evidence, rule)):
        return False, 0.0
    value = normalised_score(evidence.score, rule)
    if value is None:
        return False, None
    return meets_threshold(evidence.score, value, rule), value


def _said(score: Score) -> str:
    """The score inside a sentence: a rubric level quoted, as the threshold's is."""
    return f"'{score.rubric_level}'" if score.rubric_level is not None else score.describe()


def assess(evidence: Evidence, rule: Rule) -> Assessment:
    """The verdict of `verdict_of`, with the reason `explain` shows."""
    eid = evidence.meta.event_id
    meets, value = verdict_of(evidence, rule)
    allowed = time_allowed(evidence, rule)
    if _over_time(evidence, allowed):
        with_acc = (
            f" (the {rule.time_limit_seconds} s limit × {evidence.extended_time_factor:g} extended time)"
            if evidence.extended_time_factor > 1
            else ""
        )
        return Assessment(
            eid,
            meets=meets,
            value=value,
            over_time=True,
            reason=f"took {evidence.duration_seconds:g} s, over the {allowed:g} s allowed{with_acc}; "
            "counts as a miss",
        )
    if value is None:
        return Assessment(
            eid,
            meets=meets,
            value=None,
            over_time=False,
            reason=f"score {_said(evidence.score)} cannot be read under this rule's threshold",
        )
    needed = rule.describe_threshold()
    reason = (
        f"score {_said(evidence.score)} meets {needed}"
        if meets
        else f"score {_said(evidence.score)} is below {needed}"
    )
    return Assessment(eid, meets=meets, value=value, over_time=False, reason=reason)
