"""Hypothesis strategies for a learner's stream of domain events (attempts,
retakes, reflections, overrides, voids, benchmarks, goals on two objectives,
recorded in order with occurred_at drawn from a few slots), and the
objective each record is about, for the audit-trail and contradiction
property tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import strategies as st

from domain.learner import Learner, learning_event
from domain.records import Benchmark, Evidence, Goal, LearningRecord, Override, Reflection, Void
from tests.unit.rules_builders import day

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
