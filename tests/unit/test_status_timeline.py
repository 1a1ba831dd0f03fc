"""`StatusTimeline` gives, record by record, exactly the status `compute_status`
gives over the records that occurred up to each one (hypothesis).

The reference is the definition itself, O(n²): the prefix of the history in
occurred_at order (ties by recording), judged by the rule in force at the
record's own time. The histories of test_rules_properties.py draw late
entries, ties, retakes, reflections, overrides, voids and voids of voids; the
rule versions change mid-history.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.records import LearningRecord
from domain.rules.status import StatusName, compute_status
from domain.rules.timeline import StatusTimeline
from domain.rules.versions import RuleVersion
from tests.unit.rule_histories import histories, rule_versions
from tests.unit.rules_builders import NINE_OF_TEN, RUBRIC, day, ev, rule, version, void


def reference(versions: list[RuleVersion], recs: list[LearningRecord]) -> list[StatusName]:
    ordered = sorted(recs, key=lambda r: r.meta.order)
    return [
        compute_status("o1", versions, ordered[: i + 1], r.meta.occurred_at).status
        for i, r in enumerate(ordered)
    ]


def timeline(versions: list[RuleVersion], recs: list[LearningRecord]) -> list[StatusName]:
    t = StatusTimeline("o1", versions)
    return [t.add(r) for r in sorted(recs, key=lambda r: r.meta.order)]


@settings(max_examples=600)
@given(st.one_of(rule_versions(), st.just([])), histories())
def test_timeline_equals_compute_status_over_each_prefix(
    versions: list[RuleVersion], recs: list[LearningRecord]
) -> None:
    assert timeline(versions, recs) == reference(versions, recs)


@settings(max_examples=200)
@given(rule_versions(), histories(), histories())
def test_records_of_other_objectives_change_only_the_time(
    versions: list[RuleVersion], mine: list[LearningRecord], others: list[LearningRecord]
) -> None:
    # Other objectives' evidence in between: ignored, but its time picks the rule in force.
    n = len(mine)
    moved = [
        ev(3, 10, at=r.meta.occurred_at, oid="o2", eid=f"y{i}", seq=n + i + 1) for i, r in enumerate(others)
    ]
    assert timeline(versions, [*mine, *moved]) == reference(versions, [*mine, *moved])


def test_a_rule_version_coming_into_force_rejudges_every_piece() -> None:
    versions = [
        version(1, rule(NINE_OF_TEN, "average"), day(1, 0, 0)),
        version(2, rule(RUBRIC, "n_times", n=2, distinct_days=True), day(5, 12, 0)),
    ]
    recs: list[LearningRecord] = [
        ev(None, level="proficient", at=day(2), eid="a", seq=1),
        ev(None, level="exemplary", at=day(3), eid="b", seq=2),
        ev(3, 10, at=day(6), eid="c", seq=3),
        void("a", day(7), eid="v", seq=4),
        void("v", day(8), eid="w", seq=5),
    ]
    got = timeline(versions, recs)
    assert got == reference(versions, recs)
    # Rubric levels are unreadable under v1 (they average 0); v2 reads them, and
    # two days meet it until the void of the first, undone by the void of the void.
    assert got == ["in_progress", "in_progress", "mastered", "in_progress", "mastered"]


def test_records_out_of_order_are_refused() -> None:
    t = StatusTimeline("o1", [])
    t.add(ev(9, 10, at=day(3), eid="a", seq=2))
    with pytest.raises(ValueError, match="out of occurred_at order"):
        t.add(ev(9, 10, at=day(2), eid="b", seq=1))
