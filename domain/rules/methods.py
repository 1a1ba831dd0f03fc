"""Calculation methods: how several assessed pieces of evidence become one verdict.

Each method takes the counting evidence in `occurred_at` order with its
assessments and returns a `Verdict`. Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.records import Evidence
from domain.rules.assessment import Assessment, threshold_value
from domain.rules.model import Average, Bkt, DecayingAverage, Highest, Latest, NTimes, Rule

# Float sums of exact fractions can land a hair below the threshold.
_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class Verdict:
    mastered: bool
    score: float | None
    deciding: Evidence
    sentence: str


Assessed = Sequence[tuple[Evidence, Assessment]]


def _when(e: Evidence) -> str:
    return f"{e.kind} form {e.form or '-'} on {e.meta.occurred_at.date().isoformat()}"


def latest(items: Assessed, rule: Rule) -> Verdict:
    ev, a = items[-1]
    word = "meets" if a.meets else "does not meet"
    return Verdict(
        a.meets,
        a.value,
        ev,
        f"The latest evidence ({_when(ev)}) {word} the threshold: {a.reason}.",
    )


def highest(items: Assessed, rule: Rule) -> Verdict:
    best_ev, best = max(items, key=lambda p: (p[1].value or 0.0, p[0].meta.order))
    for ev, a in items:
        if a.meets:
            # Decided (and mastered since) by the first piece that met it; the
            # score a method called "highest" reports is the highest one.
            return Verdict(
                True,
                best.value,
                ev,
                f"At least one piece of evidence meets the threshold: {_when(ev)}, {a.reason}.",
            )
    return Verdict(
        False,
        best.value,
        best_ev,
        f"None of {len(items)} pieces of evidence meets {rule.describe_threshold()}; "
        f"the best was {_when(best_ev)}: {best.reason}.",
    )


def n_times(items: Assessed, rule: Rule, calc: NTimes) -> Verdict:
    meeting: list[tuple[Evidence, Assessment]] = []
    days: set[object] = set()
    for ev, a in items:
        if not a.meets:
            continue
        # The local date in the classroom's own offset, as the teacher saw it.
        day = ev.meta.occurred_at.date()
        if calc.distinct_days and day in days:
            continue
        days.add(day)
        meeting.append((ev, a))
    unit = "different days" if calc.distinct_days else "times"
    if len(meeting) >= calc.n:
        ev, a = meeting[calc.n - 1]
        return Verdict(
            True,
            a.value,
            ev,
            f"The threshold was met {len(meeting)} {unit}, at least the {calc.n} required; "
            f"the {_ordinal(calc.n)} was {_when(ev)}.",
        )
    ev, a = items[-1]
    return Verdict(
        False,
        a.value,
        ev,
        f"The threshold was met {len(meeting)} {unit}; {calc.n} are required.",
    )


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


# The arithmetic of the averaging methods and BKT, shared with the audit
# replay's running tally (domain/rules/timeline.py) so the two cannot differ
# in a single bit: a borderline verdict must come out the same both ways.


def reaches(value: float, need: float) -> bool:
    return value + _EPS >= need


def average_value(values: Sequence[float]) -> float:
    return _mean(values)


def decaying_value(values: Sequence[float], calc: DecayingAverage) -> float:
    if len(values) == 1:
        return values[0]
    return calc.weight * values[-1] + (1 - calc.weight) * _mean(values[:-1])


def bkt_step(p: float, right: bool, calc: Bkt) -> float:
    """P(known) after one more observation: Bayes' rule on the answer, then
    the chance of learning between opportunities."""
    if right:
        num = p * (1 - calc.slip)
        den = num + (1 - p) * calc.guess
    else:
        num = p * calc.slip
        den = num + (1 - p) * (1 - calc.guess)
    posterior = num / den if den > 0 else p
    return posterior + (1 - posterior) * calc.learn


def average(items: Assessed, rule: Rule) -> Verdict:
    values = [a.value or 0.0 for _, a in items]
    mean = average_value(values)
    need = threshold_value(rule)
    ok = reaches(mean, need)
    ev = items[-1][0]
    word = "meets" if ok else "is below"
    return Verdict(
        ok,
        mean,
        ev,
        f"The average of {len(values)} scores is {mean:.3f}, which {word} the threshold {need:.3f}.",
    )


def decaying_average(items: Assessed, rule: Rule, calc: DecayingAverage) -> Verdict:
    values = [a.value or 0.0 for _, a in items]
    value = decaying_value(values, calc)
    if len(values) == 1:
        how = f"the only score, {value:.3f}"
    else:
        how = (
            f"{calc.weight:g} × latest {values[-1]:.3f} + {1 - calc.weight:g} × "
            f"mean of earlier {_mean(values[:-1]):.3f} = {value:.3f}"
        )
    need = threshold_value(rule)
    ok = reaches(value, need)
    word = "meets" if ok else "is below"
    return Verdict(ok, value, items[-1][0], f"The decaying average is {how}, which {word} {need:.3f}.")


def bkt_probability(observations: Sequence[bool], calc: Bkt) -> float:
    """P(known) after each observation, one `bkt_step` at a time from the prior."""
    p = calc.prior
    for right in observations:
        p = bkt_step(p, right, calc)
    return p


def bkt(items: Assessed, rule: Rule, calc: Bkt) -> Verdict:
    p = bkt_probability([a.meets for _, a in items], calc)
    ok = reaches(p, calc.mastery_probability)
    word = "reaches" if ok else "is below"
    return Verdict(
        ok,
        p,
        items[-1][0],
        f"After {len(items)} observations the probability the skill is known is {p:.3f}, "
        f"which {word} {calc.mastery_probability:g}.",
    )


def decide(items: Assessed, rule: Rule) -> Verdict:
    calc = rule.calculation
    if isinstance(calc, Latest):
        return latest(items, rule)
    if isinstance(calc, Highest):
        return highest(items, rule)
    if isinstance(calc, NTimes):
        return n_times(items, rule, calc)
    if isinstance(calc, Average):
        return average(items, rule)
    if isinstance(calc, DecayingAverage):
        return decaying_average(items, rule, calc)
    return bkt(items, rule, calc)
