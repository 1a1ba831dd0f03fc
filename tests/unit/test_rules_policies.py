"""Overrides, voids and the retake flags (CONTRACT.md §2, the events table).

"Record, then flag": a retake without reflection or on the same form is
stored and flagged; evidence against a teacher's override is stored and
raises `override_contradicted`.
"""

from __future__ import annotations

from domain.records import LearningRecord
from tests.unit.rules_builders import NINE_OF_TEN, day, ev, override, reflection, rule, status_of, void

R = rule(NINE_OF_TEN)

# --- overrides ---


def test_mastered_override_decides_over_failing_evidence() -> None:
    miss = ev(5, 10, at=day(1))
    o = override("mastered", day(2))
    s = status_of(R, [miss, o])
    assert (s.status, s.source, s.deciding_event_id) == ("mastered", "override", o.meta.event_id)
    assert s.mastered_at == day(2)
    assert s.evidence_count == 1
    # The override decides without a score: the evidence's 0.5 is not shown as its own.
    assert s.score is None
    assert s.sentence == "A teacher override (mastered, 2026-09-02) decides"
    assert s.flags == ()  # the miss came before the override: no contradiction


def test_not_mastered_override_shows_in_progress() -> None:
    o = override("not_mastered", day(2))
    s = status_of(R, [ev(10, 10, at=day(1)), o])
    assert (s.status, s.source, s.mastered_at) == ("in_progress", "override", None)
    assert s.sentence == "A teacher override (not mastered, 2026-09-02) decides"


def test_override_without_evidence() -> None:
    s = status_of(R, [override("mastered", day(2))])
    assert (s.status, s.source, s.evidence_count, s.score) == ("mastered", "override", 0, None)


def test_cleared_override_gives_the_decision_back_to_evidence() -> None:
    recs: list[LearningRecord] = [
        ev(5, 10, at=day(1)),
        override("mastered", day(2)),
        override("cleared", day(3)),
    ]
    s = status_of(R, recs)
    assert (s.status, s.source) == ("in_progress", "evidence")


def test_later_override_replaces_the_earlier() -> None:
    first = override("mastered", day(2))
    second = override("not_mastered", day(5))
    s = status_of(R, [ev(10, 10, at=day(1)), second, first])
    assert (s.status, s.deciding_event_id) == ("in_progress", second.meta.event_id)


def test_override_contradicted_by_later_evidence() -> None:
    o = override("mastered", day(5))
    after_miss = ev(4, 10, at=day(6))
    s = status_of(R, [ev(9, 10, at=day(1)), o, after_miss])
    assert s.status == "mastered"  # the override still decides
    assert s.flags == ("override_contradicted",)
    # Meeting evidence after a mastered override agrees with it.
    assert status_of(R, [o, ev(9, 10, at=day(6))]).flags == ()
    # Against not_mastered, evidence that meets the threshold disagrees.
    nm = override("not_mastered", day(5))
    assert status_of(R, [nm, ev(10, 10, at=day(7))]).flags == ("override_contradicted",)
    assert status_of(R, [nm, ev(3, 10, at=day(7))]).flags == ()


def test_contradiction_ends_with_the_override() -> None:
    recs: list[LearningRecord] = [
        override("mastered", day(5)),
        ev(4, 10, at=day(6)),
        override("cleared", day(7)),
    ]
    s = status_of(R, recs)
    assert (s.status, s.source, s.flags) == ("in_progress", "evidence", ())
    # A replacing override is judged against the evidence after it only.
    recs2: list[LearningRecord] = [
        override("mastered", day(5)),
        ev(4, 10, at=day(6)),
        override("not_mastered", day(7)),
    ]
    assert status_of(R, recs2).flags == ()


# --- voids ---


def test_voided_evidence_stops_counting_but_stays_in_the_lines() -> None:
    good, wrong_student = ev(9, 10, at=day(1)), ev(2, 10, at=day(3))
    v = void(wrong_student.meta.event_id, day(4))
    s = status_of(R, [good, wrong_student, v], lines=True)
    assert (s.status, s.evidence_count, s.deciding_event_id) == ("mastered", 1, good.meta.event_id)
    line = next(x for x in s.evidence if x.event_id == wrong_student.meta.event_id)
    assert (line.counted, line.reason) == (False, "voided; it no longer counts")


def test_void_of_a_void_restores_the_target() -> None:
    good, later_miss = ev(9, 10, at=day(1)), ev(2, 10, at=day(3))
    v1 = void(later_miss.meta.event_id, day(4))
    v2 = void(v1.meta.event_id, day(5))
    restored = status_of(R, [good, later_miss, v1, v2])
    never = status_of(R, [good, later_miss])
    assert (
        (restored.status, restored.evidence_count)
        == (never.status, never.evidence_count)
        == ("in_progress", 2)
    )
    # And a third void voids the restoring one: the miss is voided again.
    v3 = void(v2.meta.event_id, day(6))
    assert status_of(R, [good, later_miss, v1, v2, v3]).status == "mastered"


def test_voiding_the_only_evidence_leaves_not_started() -> None:
    only = ev(9, 10, at=day(1))
    s = status_of(R, [only, void(only.meta.event_id, day(2))])
    assert (s.status, s.evidence_count, s.sentence) == ("not_started", 0, "No counting evidence yet.")


def test_voided_override_gives_way_to_the_one_before() -> None:
    first = override("mastered", day(2))
    mistaken = override("not_mastered", day(3))
    s = status_of(R, [first, mistaken, void(mistaken.meta.event_id, day(4))])
    assert (s.status, s.deciding_event_id) == ("mastered", first.meta.event_id)


# --- retake flags ---


def test_retake_without_reflection_is_flagged() -> None:
    miss = ev(5, 10, at=day(1), form="A")
    retake = ev(9, 10, at=day(3), form="B", retake_of=miss.meta.event_id)
    s = status_of(R, [miss, retake])
    assert s.status == "mastered"  # recorded and counted, only flagged
    assert s.flags == ("reflection_missing",)


def test_reflection_before_the_retake_clears_the_flag() -> None:
    miss = ev(5, 10, at=day(1), form="A")
    refl = reflection(miss.meta.event_id, day(2))
    retake = ev(9, 10, at=day(3), form="B", retake_of=miss.meta.event_id)
    assert status_of(R, [retake, refl, miss]).flags == ()


def test_reflection_at_the_same_time_as_the_retake_counts_whatever_the_recording_order() -> None:
    # Error analysis and retake in the same period, entered retake first.
    miss = ev(5, 10, at=day(1), form="A")
    retake = ev(9, 10, at=day(3), form="B", retake_of=miss.meta.event_id)
    refl = reflection(miss.meta.event_id, day(3))
    assert retake.meta.seq < refl.meta.seq
    assert status_of(R, [miss, retake, refl]).flags == ()


def test_reflection_after_the_retake_does_not_clear_the_flag() -> None:
    miss = ev(5, 10, at=day(1), form="A")
    retake = ev(9, 10, at=day(3), form="B", retake_of=miss.meta.event_id)
    late = reflection(miss.meta.event_id, day(3, 14))
    assert status_of(R, [miss, retake, late]).flags == ("reflection_missing",)


def test_reflection_must_be_on_the_retaken_evidence() -> None:
    first = ev(5, 10, at=day(1), form="A")
    second = ev(6, 10, at=day(2), form="B", retake_of=first.meta.event_id)
    third = ev(9, 10, at=day(4), form="C", retake_of=second.meta.event_id)
    # Reflected on the first attempt only; the third retakes the second.
    recs: list[LearningRecord] = [first, reflection(first.meta.event_id, day(1, 14)), second, third]
    assert status_of(R, recs).flags == ("reflection_missing",)
    recs.append(reflection(second.meta.event_id, day(3)))
    assert status_of(R, recs).flags == ()


def test_voided_reflection_no_longer_counts() -> None:
    miss = ev(5, 10, at=day(1), form="A")
    refl = reflection(miss.meta.event_id, day(2))
    retake = ev(9, 10, at=day(3), form="B", retake_of=miss.meta.event_id)
    assert status_of(R, [miss, refl, retake, void(refl.meta.event_id, day(4))]).flags == (
        "reflection_missing",
    )


def test_same_form_retake_is_flagged() -> None:
    # The seed keeps "a back-up assessment they could use the 2nd time around".
    miss = ev(5, 10, at=day(1), form="A")
    refl = reflection(miss.meta.event_id, day(2))
    same = ev(9, 10, at=day(3), form="A", retake_of=miss.meta.event_id)
    assert status_of(R, [miss, refl, same]).flags == ("same_form_retake",)
    no_reflection = ev(9, 10, at=day(3), form="A", retake_of=miss.meta.event_id)
    assert status_of(R, [miss, no_reflection]).flags == ("reflection_missing", "same_form_retake")


def test_retake_with_no_form_named_is_not_a_same_form_retake() -> None:
    miss = ev(5, 10, at=day(1), form="")
    retake = ev(9, 10, at=day(3), form="", retake_of=miss.meta.event_id)
    assert status_of(R, [miss, reflection(miss.meta.event_id, day(2)), retake]).flags == ()


def test_voided_retake_raises_no_flag() -> None:
    miss = ev(5, 10, at=day(1), form="A")
    retake = ev(9, 10, at=day(3), form="A", retake_of=miss.meta.event_id)
    s = status_of(R, [miss, retake, void(retake.meta.event_id, day(4))])
    assert (s.flags, s.status) == ((), "in_progress")
