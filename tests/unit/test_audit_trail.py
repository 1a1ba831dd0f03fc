"""The audit history (`audit_trail`, what GET .../history and `mastery replay`
show) against its definition, on random student streams (hypothesis); no I/O.

A stream mixes two objectives' attempts, retakes, reflections, overrides and
voids (of anything, voids included) with benchmarks and goals; events occur
in a few slots so ties are common, and are recorded in the order drawn, some
of them late. For every event shown at (as_of, known_at), `status_after` must
be `compute_status` over every record shown that occurred up to it (ties by
recording order), judged by the rule version in force at its occurred_at
among those known at known_at: the straightforward O(n²) definition below.
"""

from __future__ import annotations

from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.learner import Learner
from domain.records import LearningRecord
from domain.rules.status import StatusName, compute_status, visible, voided_ids
from domain.rules.versions import RuleVersion
from infra.keys import Opener
from services.replay import audit_trail, replayed
from tests.unit.learner_streams import CUTS, objective_of, streams
from tests.unit.rule_histories import rule_versions
from tests.unit.rules_builders import day


def expected_statuses(
    records: list[LearningRecord],
    versions: dict[str, list[RuleVersion]],
    as_of: datetime | None,
    known_at: datetime | None,
) -> list[tuple[str, str | None, StatusName | None]]:
    shown = sorted(visible(records, as_of, known_at), key=lambda r: r.meta.order)
    of = objective_of(records)
    out: list[tuple[str, str | None, StatusName | None]] = []
    for i, r in enumerate(shown):
        oid = of[r.meta.event_id]
        known = [v for v in versions.get(oid or "", []) if known_at is None or v.recorded_at <= known_at]
        status = compute_status(oid, known, shown[: i + 1], r.meta.occurred_at).status if oid else None
        out.append((r.meta.event_id, oid, status))
    return out


@settings(max_examples=400, deadline=None)
@given(
    streams(),
    rule_versions(),
    rule_versions(),
    st.sampled_from(CUTS),
    st.sampled_from([*CUTS, day(4, 20, 0)]),
    st.booleans(),
)
def test_history_status_after_each_event_is_the_status_over_what_occurred_up_to_it(
    events: list[Learner.LearningEvent],
    v1: list[RuleVersion],
    v2: list[RuleVersion],
    as_of: datetime | None,
    known_at: datetime | None,
    o2_in_catalog: bool,
) -> None:
    # o2's second version, when it has one, is recorded late (seen only by later known_at cuts).
    v2 = [*v2[:1], *(RuleVersion(v.version, v.rule, v.effective_from, day(5)) for v in v2[1:])]
    versions = {"o1": v1, **({"o2": v2} if o2_in_catalog else {})}
    stream = replayed(events)
    records = [r.record for r in stream]
    known = {
        oid: [v for v in vs if known_at is None or v.recorded_at <= known_at] for oid, vs in versions.items()
    }
    rows = audit_trail(stream, known, as_of, known_at, Opener(None))

    expected = expected_statuses(records, versions, as_of, known_at)
    assert [r["event_id"] for r in rows] == [e for e, _, _ in expected]
    assert [r["objective_id"] for r in rows] == [oid for _, oid, _ in expected]
    assert [r["status_after"] for r in rows] == [
        status if oid in versions else None for _, oid, status in expected
    ]
    voided = voided_ids(visible(records, as_of, known_at))
    assert [r["voided"] for r in rows] == [r["event_id"] in voided for r in rows]
