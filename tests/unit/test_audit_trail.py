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

from datetime import datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.learner import Learner, learning_event
from domain.records import Benchmark, Evidence, Goal, LearningRecord, Override, Reflection, Void
from domain.rules.status import RuleVersion, StatusName, compute_status, visible, voided_ids
from infra.keys import Opener
from services.replay import audit_trail, replayed
from tests.unit.rules_builders import day
from tests.unit.test_rules_properties import rule_versions

OBJECTIVES = ("o1", "o2")
SLOTS = [day(d, h, 0) for d in range(2, 7) for h in (9, 14)]
CUTS = [None, day(3, 12, 0), day(5, 10, 0)]


@st.composite
def streams(draw: st.DrawFn) -> list[Learner.LearningEvent]:
    n = draw(st.integers(1, 24))
    events: list[Learner.LearningEvent] = []
    evidence: list[str] = []
    for i in range(n):
        at = draw(st.sampled_from(SLOTS))
        # Recorded an hour after it occurred, or later for a late entry; never
        # before the previous event was recorded (the stream's order).
        recorded = at + timedelta(hours=draw(st.sampled_from([1, 1, 30, 60])))
        if events:
            recorded = max(recorded, events[-1].timestamp + timedelta(seconds=1))
        kinds = ["attempt", "attempt", "override", "benchmark", "goal"]
        if evidence:
            kinds += ["retake", "reflection"]
        if events:
            kinds += ["void", "void"]
        kind = draw(st.sampled_from(kinds))
        oid = draw(st.sampled_from(OBJECTIVES))
        body: dict[str, Any]
        if kind in ("attempt", "retake"):
            score = draw(
                st.sampled_from(
                    [
                        {"correct": draw(st.integers(0, 10)), "total": 10},
                        {"percent": draw(st.sampled_from([55, 79.5, 80, 90, 100]))},
                        {"rubric_level": draw(st.sampled_from(["developing", "proficient"]))},
                    ]
                )
            )
            body = {
                "objective_id": oid,
                "form": draw(st.sampled_from(["A", "B"])),
                "evidence": "quiz",
                "score": score,
                "duration_seconds": draw(st.sampled_from([None, 300, 700])),
            }
            if kind == "retake":
                body["retake_of"] = draw(st.sampled_from(evidence))
            evidence.append(f"x{i}")
        elif kind == "reflection":
            body = {"on_event": draw(st.sampled_from(evidence)), "text": "signs"}
        elif kind == "override":
            status = draw(st.sampled_from(["mastered", "not_mastered", "cleared"]))
            body = {"objective_id": oid, "status": status, "reason": "conference"}
        elif kind == "benchmark":
            body = {
                "benchmark_id": "unit-1",
                "results": [
                    {"objective_id": o, "correct": draw(st.integers(0, 5)), "total": 5} for o in OBJECTIVES
                ],
            }
        elif kind == "goal":
            body = {"target_mastered": 3, "due": "2026-12-01"}
        else:
            body = {"target_event_id": draw(st.sampled_from([e.event_id for e in events])), "reason": "wrong"}
        events.append(
            learning_event(
                kind,
                student_id="s1",
                version=i + 2,  # version 1 is the student's registration
                recorded_at=recorded,
                event_id=f"x{i}",
                occurred_at=at,
                recorded_by="teacher:t1",
                request_id=f"r{i}",
                payload=body,
                personal=None,
            )
        )
    return events


def objective_of(records: list[LearningRecord]) -> dict[str, str | None]:
    """Each record's objective: its own, or that of the event it reflects on or voids."""
    of: dict[str, str | None] = {}
    for r in records:  # recording order: references point backwards
        if isinstance(r, (Evidence, Override)):
            of[r.meta.event_id] = r.objective_id
        elif isinstance(r, Reflection):
            of[r.meta.event_id] = of.get(r.on_event)
        elif isinstance(r, Void):
            of[r.meta.event_id] = of.get(r.target_event_id)
        else:
            assert isinstance(r, (Benchmark, Goal))
            of[r.meta.event_id] = None
    return of


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
