"""Properties of `compute_status` over random histories (hypothesis).

A history mixes attempts, retakes, reflections, overrides and voids with
`occurred_at` drawn from a few slots so that ties are common; `seq` is the
recording order (the order drawn), and references point only to events
recorded earlier, as ingest guarantees.
"""

from __future__ import annotations

import random
from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.records import LearningRecord, Override, Reflection
from domain.rules.status import Status, compute_status, visible
from domain.rules.versions import RuleVersion
from tests.unit.rule_histories import histories, rule_versions
from tests.unit.rules_builders import (
    day,
    void,
)

NOW = day(60)


def status(versions: list[RuleVersion], recs: list[LearningRecord], at: datetime = NOW) -> Status:
    return compute_status("o1", versions, recs, at, with_lines=True)


@settings(max_examples=300, deadline=None)
@given(rule_versions(), histories(), st.randoms(use_true_random=False))
def test_status_does_not_depend_on_arrival_order(
    versions: list[RuleVersion], recs: list[LearningRecord], rnd: random.Random
) -> None:
    """Only occurred_at, and seq for ties, order records: the list order is irrelevant."""
    shuffled = list(recs)
    rnd.shuffle(shuffled)
    assert status(versions, shuffled) == status(versions, recs)
    assert status(versions, list(reversed(recs))) == status(versions, recs)


@settings(max_examples=300, deadline=None)
@given(rule_versions(), histories())
def test_as_of_the_last_event_equals_the_current_status(
    versions: list[RuleVersion], recs: list[LearningRecord]
) -> None:
    # Once every record has occurred and every rule version is in force,
    # nothing later changes the status.
    last = max([r.meta.occurred_at for r in recs] + [v.effective_from for v in versions])
    as_of = visible(recs, as_of=last)
    assert len(as_of) == len(recs)
    assert status(versions, as_of, last) == status(versions, recs)


@settings(max_examples=300, deadline=None)
@given(rule_versions(), histories(), st.data())
def test_void_then_void_of_the_void_equals_never_voiding(
    versions: list[RuleVersion], recs: list[LearningRecord], data: st.DataObject
) -> None:
    target = data.draw(st.sampled_from([r.meta.event_id for r in recs]))
    n = len(recs)
    v1 = void(target, day(7), eid="void-1", seq=n + 1)
    v2 = void("void-1", day(8), eid="void-2", seq=n + 2)
    assert status(versions, [*recs, v1, v2]) == status(versions, recs)


@settings(max_examples=200, deadline=None)
@given(rule_versions(), histories())
def test_a_voided_override_or_reflection_is_as_if_never_recorded(
    versions: list[RuleVersion], recs: list[LearningRecord]
) -> None:
    victims = [r for r in recs if isinstance(r, (Override, Reflection))]
    if not victims:
        return
    target = victims[0]
    # Only when nothing else refers to the victim (a void of it would chain).
    rest = [r for r in recs if r is not target]
    if any(getattr(r, "target_event_id", None) == target.meta.event_id for r in rest):
        return
    voided = [*recs, void(target.meta.event_id, day(9), eid="void-x", seq=len(recs) + 1)]
    assert status(versions, voided) == status(versions, rest)
