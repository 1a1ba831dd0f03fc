"""The contradiction history of a (student, objective) against its definition,
on random student streams (hypothesis); no I/O.

By definition, after each instant from the first benchmark on (events at one
instant take effect together), the contradiction that stands is the one of
`compute_status` over every record that occurred up to then, judged by the
rule version that status used, against the benchmarks and answers in that
prefix. `contradiction_history` walks the records once with a StatusTimeline;
the straightforward O(n²) walk below is the definition it must equal.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.learner import Learner
from domain.records import Benchmark, LearningRecord, Void
from domain.rules.benchmark import (
    Contradiction,
    ContradictionSpan,
    contradiction,
    contradiction_history,
    flagged,
)
from domain.rules.status import compute_status
from domain.rules.versions import RuleVersion
from tests.unit.learner_streams import OBJECTIVES, objective_of, streams
from tests.unit.rule_histories import rule_versions

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def reference(
    objective_id: str, versions: list[RuleVersion], records: list[LearningRecord], now: datetime
) -> list[ContradictionSpan]:
    ordered = sorted(records, key=lambda r: r.meta.order)
    firsts = [
        i
        for i, r in enumerate(ordered)
        if isinstance(r, Benchmark) and any(x.objective_id == objective_id for x in r.results)
    ]
    if not firsts:
        return []
    spans: list[ContradictionSpan] = []
    open_: tuple[Contradiction, datetime] | None = None

    def step(found: Contradiction | None, at: datetime) -> None:
        nonlocal open_
        if open_ is not None and (found is None or found.key != open_[0].key):
            if at > open_[1]:
                spans.append(ContradictionSpan(open_[0], open_[1], at))
            open_ = None
        if found is not None:
            open_ = (found, open_[1] if open_ is not None else at)

    for i in range(firsts[0], len(ordered)):
        at = ordered[i].meta.occurred_at
        if i + 1 < len(ordered) and ordered[i + 1].meta.occurred_at == at:
            continue
        prefix = ordered[: i + 1]
        step(contradiction(compute_status(objective_id, versions, prefix, at), versions, prefix), at)
    current = compute_status(objective_id, versions, ordered, now)
    now_found = contradiction(current, versions, ordered)
    last_at = ordered[-1].meta.occurred_at
    if (now_found is None) != (open_ is None) or (now_found and open_ and now_found.key != open_[0].key):
        in_force = max(
            (v.effective_from for v in versions if v.version == current.rule_version), default=last_at
        )
        step(now_found, max(last_at, in_force))
    elif now_found is not None and open_ is not None:
        open_ = (now_found, open_[1])
    if open_ is not None:
        spans.append(ContradictionSpan(open_[0], open_[1], None))
    return spans


@settings(max_examples=500, deadline=None)
@given(streams(), rule_versions(), st.sampled_from(OBJECTIVES))
def test_history_equals_its_definition(
    events: list[Learner.LearningEvent], versions: list[RuleVersion], objective_id: str
) -> None:
    records = [e.to_record() for e in events]
    of = objective_of(records)
    # What the projection hands over for the pair: the records bearing on the
    # objective, every benchmark, and the voids that bear on no objective.
    mine = [
        r
        for r in records
        if of[r.meta.event_id] == objective_id
        or isinstance(r, Benchmark)
        or (of[r.meta.event_id] is None and isinstance(r, Void))
    ]
    current = compute_status(objective_id, versions, mine, NOW)
    current = flagged(current, contradiction(current, versions, mine))
    assert contradiction_history(objective_id, versions, mine, current) == reference(
        objective_id, versions, mine, NOW
    )
