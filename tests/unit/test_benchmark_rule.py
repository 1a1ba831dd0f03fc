"""The benchmark-versus-mastery rule and the growth trajectory: pure functions, no I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from domain.growth import trajectory, week_start
from domain.records import (
    Benchmark,
    BenchmarkResult,
    Evidence,
    Goal,
    LearningRecord,
    Meta,
    Override,
    OverrideStatus,
    Score,
    Void,
)
from domain.rules.benchmark import (
    BenchmarkTaken,
    contradiction,
    contradiction_history,
    contradiction_kind,
    with_benchmarks,
)
from domain.rules.model import CorrectOf, Percent, Rubric, Rule
from domain.rules.status import compute_status
from domain.rules.versions import RuleVersion

NINE_OF_TEN = Rule(threshold=CorrectOf(min_correct=9, of=10))
VERSIONS = (RuleVersion(1, NINE_OF_TEN, datetime(2026, 8, 1, tzinfo=UTC), datetime(2026, 8, 1, tzinfo=UTC)),)
_seq = iter(range(1, 10_000))


def _meta(eid: str, day: int) -> Meta:
    at = datetime(2026, 9, day, 9, tzinfo=UTC)
    return Meta(eid, next(_seq), at, at, "teacher:t1")


def quiz(eid: str, day: int, correct: int) -> Evidence:
    return Evidence(_meta(eid, day), "o1", "A", "quiz", Score(correct=correct, total=10), None, 1.0, None)


def bench(eid: str, day: int, correct: int, total: int = 10, oid: str = "o1") -> Benchmark:
    return Benchmark(_meta(eid, day), "interim-1", "Interim 1", (BenchmarkResult(oid, correct, total),))


def override(eid: str, day: int, status: OverrideStatus) -> Override:
    return Override(_meta(eid, day), "o1", status)


def void(eid: str, day: int, target: str) -> Void:
    return Void(_meta(eid, day), target)


def taken(correct: int, total: int = 10, day: int = 10) -> BenchmarkTaken:
    return BenchmarkTaken(f"b{day}", "interim-1", datetime(2026, 9, day, tzinfo=UTC), day, correct, total)


def test_mastered_and_benchmark_below_threshold_is_below_mastery() -> None:
    found = contradiction_kind("mastered", NINE_OF_TEN, [taken(6)])
    assert found is not None and found[0] == "benchmark_below_mastery"


def test_not_mastered_and_benchmark_meets_threshold_is_above_status() -> None:
    for status in ("in_progress", "not_started"):
        found = contradiction_kind(status, NINE_OF_TEN, [taken(19, 20)])
        assert found is not None and found[0] == "benchmark_above_status"


def test_agreement_raises_nothing() -> None:
    assert contradiction_kind("mastered", NINE_OF_TEN, [taken(9)]) is None
    assert contradiction_kind("in_progress", NINE_OF_TEN, [taken(8)]) is None
    assert contradiction_kind("mastered", NINE_OF_TEN, []) is None
    assert contradiction_kind("mastered", None, [taken(1)]) is None


def test_threshold_is_exact_for_correct_of_and_applies_to_percent_and_rubric() -> None:
    # 18/20 is exactly 9 of 10: it meets, no rounding.
    assert contradiction_kind("mastered", NINE_OF_TEN, [taken(18, 20)]) is None
    assert contradiction_kind("mastered", NINE_OF_TEN, [taken(17, 20)]) is not None
    eighty = Rule(threshold=Percent(min=80))
    assert contradiction_kind("in_progress", eighty, [taken(4, 5)]) is not None
    assert contradiction_kind("in_progress", eighty, [taken(3, 5)]) is None
    rubric = Rule(threshold=Rubric(levels=["emerging", "developing", "proficient"], min_level="proficient"))
    assert contradiction_kind("mastered", rubric, [taken(9)]) is not None  # 0.9 < 1.0 on the level scale


def test_latest_benchmark_decides_and_an_answer_after_it_settles() -> None:
    early, late = taken(3, day=5), taken(10, day=20)
    assert contradiction_kind("mastered", NINE_OF_TEN, [late, early]) is None
    found = contradiction_kind("mastered", NINE_OF_TEN, [taken(10, day=5), taken(3, day=20)])
    assert found is not None and found[1].event_id == "b20"
    after = (datetime(2026, 9, 21, tzinfo=UTC), 0)
    assert contradiction_kind("mastered", NINE_OF_TEN, [taken(3, day=20)], after) is None
    before = (datetime(2026, 9, 19, tzinfo=UTC), 0)
    assert contradiction_kind("mastered", NINE_OF_TEN, [taken(3, day=20)], before) is not None


def _status_with(records: list[LearningRecord]) -> tuple[str, tuple[str, ...]]:
    s = compute_status("o1", VERSIONS, records, datetime(2026, 10, 30, tzinfo=UTC))
    flagged = with_benchmarks(s, VERSIONS, records)
    return flagged.status, flagged.flags


def test_status_is_flagged_and_a_voided_benchmark_or_new_evidence_clears_it() -> None:
    q, b = quiz("q1", 1, 10), bench("b1", 10, 4)
    assert _status_with([q, b]) == ("mastered", ("benchmark_disagrees",))
    assert _status_with([q, b, void("v1", 11, "b1")]) == ("mastered", ())
    # Voiding the void restores the benchmark.
    assert _status_with([q, b, void("v1", 11, "b1"), void("v2", 12, "v1")])[1] == ("benchmark_disagrees",)
    # The student re-demonstrates after the test: settled.
    assert _status_with([q, b, quiz("q2", 15, 10)]) == ("mastered", ())
    # The student fails after the test: the status now agrees with the benchmark.
    assert _status_with([q, b, quiz("q3", 15, 5)]) == ("in_progress", ())
    # A teacher decides after the test, knowing it: settled.
    assert _status_with([q, b, override("ov", 15, "mastered")]) == ("mastered", ())
    # A benchmark on another objective is none of this objective's business.
    assert _status_with([q, bench("bx", 10, 0, oid="o2")]) == ("mastered", ())


def test_benchmark_alone_above_a_not_started_status() -> None:
    b = bench("b1", 10, 10)
    s = compute_status("o1", VERSIONS, [b], datetime(2026, 10, 30, tzinfo=UTC))
    found = contradiction(s, VERSIONS, [b])
    assert s.status == "not_started"
    assert found is not None and found.kind == "benchmark_above_status" and found.benchmark.percent == 100


def test_history_opens_at_the_benchmark_and_closes_at_the_evidence_that_settles_it() -> None:
    q, b, q2 = quiz("q1", 1, 10), bench("b1", 10, 4), quiz("q2", 20, 10)
    recs: list[LearningRecord] = [q, b, q2]
    now = compute_status("o1", VERSIONS, recs, datetime(2026, 10, 30, tzinfo=UTC))
    spans = contradiction_history("o1", VERSIONS, recs, now)
    assert len(spans) == 1
    assert spans[0].contradiction.kind == "benchmark_below_mastery"
    assert spans[0].detected_at == b.meta.occurred_at
    assert spans[0].resolved_at == q2.meta.occurred_at
    # Without the settling quiz it is still open.
    open_ = contradiction_history("o1", VERSIONS, [q, b], with_benchmarks(now, VERSIONS, [q, b]))
    assert [(s.detected_at, s.resolved_at) for s in open_] == [(b.meta.occurred_at, None)]
    # No benchmark, no history.
    assert contradiction_history("o1", VERSIONS, [q], now) == []


def test_history_is_independent_of_record_order_given() -> None:
    recs: list[LearningRecord] = [
        quiz("q1", 1, 10),
        bench("b1", 10, 4),
        quiz("q2", 12, 3),
        bench("b2", 14, 10),
    ]
    now = compute_status("o1", VERSIONS, recs, datetime(2026, 10, 30, tzinfo=UTC))
    forward = contradiction_history("o1", VERSIONS, recs, now)
    assert forward == contradiction_history("o1", VERSIONS, list(reversed(recs)), now)
    # below mastery from b1 until q2 (fails: now in progress, agreeing), then above status from b2.
    assert [(s.contradiction.kind, s.detected_at.day, s.resolved_at) for s in forward] == [
        ("benchmark_below_mastery", 10, datetime(2026, 9, 12, 9, tzinfo=UTC)),
        ("benchmark_above_status", 14, None),
    ]


def test_week_start_is_monday() -> None:
    assert week_start(date(2026, 9, 16)) == date(2026, 9, 14)
    assert week_start(date(2026, 9, 14)) == date(2026, 9, 14)


def test_trajectory_counts_cumulatively_and_projects_the_goal() -> None:
    today = date(2026, 10, 12)  # a Monday, four weeks after the first evidence
    start = datetime(2026, 9, 14, 9, tzinfo=UTC)
    mastered = [start + timedelta(days=d) for d in (1, 2, 8, 22)]
    goal = Goal(_meta("g", 1), target_mastered=10, due=date(2026, 11, 9))
    t = trajectory(mastered, start, goal, today)
    assert [n for _, n in t.points] == [2, 3, 3, 4, 4]
    assert t.points[0][0] == date(2026, 9, 14) and t.points[-1][0] == date(2026, 10, 12)
    assert t.rate_per_week == 1.0  # 4 mastered over 4 weeks
    assert t.goal is not None
    assert t.goal.projected_at_due == 8.0 and t.goal.on_track is False
    easy = trajectory(mastered, start, Goal(_meta("g2", 1), 8, date(2026, 11, 9)), today)
    assert easy.goal is not None and easy.goal.on_track is True


def test_a_projection_never_exceeds_the_objectives_the_student_can_master() -> None:
    today = date(2026, 10, 12)
    start = datetime(2026, 9, 14, 9, tzinfo=UTC)
    mastered = [start + timedelta(days=d) for d in (1, 2, 8, 22)]
    goal = Goal(_meta("g", 1), target_mastered=6, due=date(2026, 11, 9))
    # 4 + 1 a week for 4 weeks is 8; the student's courses hold 5 objectives.
    t = trajectory(mastered, start, goal, today, reachable=5)
    assert t.goal is not None and t.goal.projected_at_due == 5.0 and t.goal.on_track is False
    roomy = trajectory(mastered, start, goal, today, reachable=50)
    assert roomy.goal is not None and roomy.goal.projected_at_due == 8.0


def test_trajectory_past_due_reports_what_was_mastered_by_then_and_empty_has_no_points() -> None:
    start = datetime(2026, 9, 14, 9, tzinfo=UTC)
    mastered = [start, start + timedelta(days=20)]
    t = trajectory(mastered, start, Goal(_meta("g", 1), 1, date(2026, 9, 20)), date(2026, 10, 12))
    assert t.goal is not None and t.goal.projected_at_due == 1.0 and t.goal.on_track is True
    empty = trajectory([], None, None, date(2026, 10, 12))
    assert empty.points == () and empty.rate_per_week == 0.0 and empty.goal is None
