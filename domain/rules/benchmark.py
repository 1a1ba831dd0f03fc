"""Benchmark tests against recorded mastery: when do they contradict each other?

A unit, interim or state test samples several objectives at once. Its items on
one objective are judged by that objective's threshold, like a piece of
evidence, but they never decide the status: they only raise a contradiction
(the seeds: "a student might have moved all his standards to mastery ... but a
unit test shows that once assessed on all of them at the same time, the score
is different").

* `benchmark_below_mastery`: mastered, but the latest benchmark's items on the
  objective fall below the threshold.
* `benchmark_above_status`: not mastered, but the latest benchmark meets it.

A contradiction is settled once the classroom has answered the benchmark:
counting evidence or an override on the objective that occurred after it
(the student re-demonstrated, or a teacher decided knowing the result). New
evidence that changes the status so it agrees settles it too, trivially.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from domain.records import Benchmark, Evidence, LearningRecord, Override, Score
from domain.rules.assessment import meets_threshold
from domain.rules.model import Rule
from domain.rules.status import Status, StatusName, voided_ids
from domain.rules.timeline import StatusTimeline
from domain.rules.versions import RuleVersion

ContradictionKind = Literal["benchmark_below_mastery", "benchmark_above_status"]
FLAG = "benchmark_disagrees"


@dataclass(frozen=True, slots=True)
class BenchmarkTaken:
    """One benchmark event's items on one objective (repeated rows summed)."""

    event_id: str
    benchmark_id: str
    occurred_at: datetime
    seq: int
    correct: int
    total: int

    @property
    def percent(self) -> float:
        return 100 * self.correct / self.total

    @property
    def order(self) -> tuple[datetime, int]:
        return (self.occurred_at, self.seq)


@dataclass(frozen=True, slots=True)
class Contradiction:
    kind: ContradictionKind
    mastery_status: StatusName
    benchmark: BenchmarkTaken

    @property
    def key(self) -> tuple[str, str]:
        """What makes it the same contradiction over time."""
        return (self.kind, self.benchmark.event_id)


def benchmark_meets(taken: BenchmarkTaken, rule: Rule) -> bool:
    """correct/total judged by the rule's threshold (a rubric threshold as its
    level's position on the 0–1 scale, as the averaging methods read it)."""
    score = Score(correct=taken.correct, total=taken.total)
    return meets_threshold(score, taken.correct / taken.total, rule)


def contradiction_kind(
    status: StatusName,
    rule: Rule | None,
    taken: Sequence[BenchmarkTaken],
    answered: tuple[datetime, int] | None = None,
) -> tuple[ContradictionKind, BenchmarkTaken] | None:
    """The contradiction between a status and the benchmark results on its
    objective, if one stands.

    The latest benchmark (by occurred_at, then recording) decides. `answered`
    is the order of the latest counting evidence or override on the objective:
    a benchmark the classroom answered after it took place raises nothing.
    """
    if rule is None or not taken:
        return None
    latest = max(taken, key=lambda t: t.order)
    if answered is not None and answered > latest.order:
        return None
    meets = benchmark_meets(latest, rule)
    if status == "mastered" and not meets:
        return ("benchmark_below_mastery", latest)
    if status != "mastered" and meets:
        return ("benchmark_above_status", latest)
    return None


def taken_on(objective_id: str, records: Iterable[LearningRecord], voided: set[str]) -> list[BenchmarkTaken]:
    out = []
    for r in records:
        if not isinstance(r, Benchmark) or r.meta.event_id in voided:
            continue
        mine = [x for x in r.results if x.objective_id == objective_id]
        if mine:
            out.append(
                BenchmarkTaken(
                    r.meta.event_id,
                    r.benchmark_id,
                    r.meta.occurred_at,
                    r.meta.seq,
                    sum(x.correct for x in mine),
                    sum(x.total for x in mine),
                )
            )
    return out


def _answered(
    objective_id: str, records: Iterable[LearningRecord], voided: set[str]
) -> tuple[datetime, int] | None:
    orders = [
        r.meta.order
        for r in records
        if isinstance(r, (Evidence, Override))
        and r.objective_id == objective_id
        and r.meta.event_id not in voided
    ]
    return max(orders, default=None)


def _rule_of(status: Status, versions: Sequence[RuleVersion]) -> Rule | None:
    return next((v.rule for v in versions if v.version == status.rule_version), None)


def contradiction(
    status: Status, versions: Sequence[RuleVersion], records: Sequence[LearningRecord]
) -> Contradiction | None:
    """The contradiction standing for `status`, judged by the rule version the
    status used. `records` are the student's records bearing on the objective,
    its benchmarks and the voids that may retract them; others are ignored."""
    voided = voided_ids(records)
    found = contradiction_kind(
        status.status,
        _rule_of(status, versions),
        taken_on(status.objective_id, records, voided),
        _answered(status.objective_id, records, voided),
    )
    if found is None:
        return None
    return Contradiction(found[0], status.status, found[1])


def flagged(status: Status, found: Contradiction | None) -> Status:
    """The status with `benchmark_disagrees` among its flags while a contradiction stands."""
    if found is None or FLAG in status.flags:
        return status
    return dataclasses.replace(status, flags=tuple(sorted((*status.flags, FLAG))))


def with_benchmarks(
    status: Status, versions: Sequence[RuleVersion], records: Sequence[LearningRecord]
) -> Status:
    """compute_status's result, flagged when a benchmark contradicts it."""
    return flagged(status, contradiction(status, versions, records))


@dataclass(frozen=True, slots=True)
class ContradictionSpan:
    """One contradiction over classroom time: from the event after which it
    stood to the event after which it no longer did (None: it still stands).
    `mastery_status` is the latest status while it stood."""

    contradiction: Contradiction
    detected_at: datetime
    resolved_at: datetime | None


def contradiction_history(
    objective_id: str,
    versions: Sequence[RuleVersion],
    records: Sequence[LearningRecord],
    current: Status,
) -> list[ContradictionSpan]:
    """Every contradiction that stood on this objective, walking the records in
    occurred_at order (the status after each event under the rule then in
    force, as the audit history computes it). `current` is the status now; it
    decides whether the last one still stands.

    Being a function of the records alone, the history is the same however the
    events were batched, and a late event rewrites it into its place.
    """
    ordered = sorted(records, key=lambda r: r.meta.order)
    first = next(
        (
            i
            for i, r in enumerate(ordered)
            if isinstance(r, Benchmark) and any(x.objective_id == objective_id for x in r.results)
        ),
        None,
    )
    if first is None:
        return []
    spans: list[ContradictionSpan] = []
    open_: tuple[Contradiction, datetime] | None = None

    def step(found: Contradiction | None, at: datetime) -> None:
        nonlocal open_
        if open_ is not None and (found is None or found.key != open_[0].key):
            if at > open_[1]:  # a state that lasted no time (events at one instant) is not kept
                spans.append(ContradictionSpan(open_[0], open_[1], at))
            open_ = None
        if found is not None:
            open_ = (found, open_[1] if open_ is not None else at)

    # One pass in occurred order: the timeline gives the status after each
    # record (as compute_status over the prefix would), and the benchmarks and
    # answers on the objective so far are kept as they come, so each instant
    # costs what changed rather than the whole prefix again.
    timeline = StatusTimeline(objective_id, versions)
    taken: list[BenchmarkTaken] = []
    answers: list[tuple[tuple[datetime, int], str]] = []  # (order, event id) of evidence and overrides
    for i, r in enumerate(ordered):
        name = timeline.add(r)
        if isinstance(r, Benchmark):
            taken.extend(taken_on(objective_id, [r], set()))
        elif isinstance(r, (Evidence, Override)) and r.objective_id == objective_id:
            answers.append((r.meta.order, r.meta.event_id))
        at = r.meta.occurred_at
        if i < first or (i + 1 < len(ordered) and ordered[i + 1].meta.occurred_at == at):
            continue  # before the first benchmark nothing can stand; one instant takes effect together
        voided = timeline.voided
        rv = timeline.rule_version
        answered = next((order for order, eid in reversed(answers) if eid not in voided), None)
        found = contradiction_kind(
            name, rv.rule if rv else None, [t for t in taken if t.event_id not in voided], answered
        )
        step(Contradiction(found[0], name, found[1]) if found else None, at)
    now_found = contradiction(current, versions, ordered)
    last_at = ordered[-1].meta.occurred_at
    if (now_found is None) != (open_ is None) or (now_found and open_ and now_found.key != open_[0].key):
        # A rule version that came into force after the last event changed the verdict.
        in_force = max(
            (v.effective_from for v in versions if v.version == current.rule_version), default=last_at
        )
        step(now_found, max(last_at, in_force))
    elif now_found is not None and open_ is not None:
        open_ = (now_found, open_[1])
    if open_ is not None:
        spans.append(ContradictionSpan(open_[0], open_[1], None))
    return spans
