"""Calculation methods with hand-computed cases (CONTRACT.md §2, `calculation.method`)."""

from __future__ import annotations

from datetime import timedelta, timezone
from fractions import Fraction

import pytest

from domain.rules.methods import bkt_probability
from domain.rules.model import Bkt
from tests.unit.rules_builders import FOUR_OF_FIVE, NINE_OF_TEN, POWER_UP_80, RUBRIC, day, ev, rule, status_of

# --- latest (the default) ---


def test_latest_decides_by_occurred_at_not_by_arrival() -> None:
    r = rule(NINE_OF_TEN)
    passed, failed = ev(9, 10, at=day(10)), ev(6, 10, at=day(14))
    assert status_of(r, [passed, failed]).status == "in_progress"
    # A quiz from the 20th recorded late lands in its place and decides.
    late = ev(10, 10, at=day(20))
    s = status_of(r, [late, passed, failed])
    assert (s.status, s.deciding_event_id, s.score) == ("mastered", late.meta.event_id, 1.0)
    assert s.sentence == (
        "Mastered. The latest evidence (quiz form A on 2026-09-20) meets the threshold: "
        "score 10/10 meets 9 of 10 correct."
    )


def test_latest_with_equal_occurred_at_is_decided_by_recording_order() -> None:
    r = rule(NINE_OF_TEN)
    first = ev(9, 10, at=day(14), seq=1)
    second = ev(5, 10, at=day(14), seq=2)
    for order in ([first, second], [second, first]):
        s = status_of(r, order)
        assert (s.status, s.deciding_event_id) == ("in_progress", second.meta.event_id)


def test_latest_compares_instants_across_offsets() -> None:
    # 09:30 in Chicago (14:30Z) is after 10:00 in London summer time (09:00Z).
    r = rule(NINE_OF_TEN)
    chicago = ev(9, 10, at=day(14, 9, 30))
    london = ev(3, 10, at=day(14, 10, 0, tz=timezone(timedelta(hours=1))))
    assert status_of(r, [chicago, london]).deciding_event_id == chicago.meta.event_id


def test_latest_sentence_when_not_met() -> None:
    s = status_of(rule(NINE_OF_TEN), [ev(8, 10, at=day(14))])
    assert s.sentence == (
        "Not yet mastered. The latest evidence (quiz form A on 2026-09-14) does not meet the "
        "threshold: score 8/10 is below 9 of 10 correct."
    )


# --- highest ---


def test_highest_any_evidence_that_meets() -> None:
    r = rule(NINE_OF_TEN, "highest")
    first_pass = ev(9, 10, at=day(3))
    best = ev(10, 10, at=day(5))
    s = status_of(r, [ev(5, 10, at=day(1)), first_pass, ev(4, 10, at=day(8)), best, ev(2, 10, at=day(9))])
    assert s.status == "mastered"
    # Mastered since the first piece that met it; the score is the highest.
    assert s.deciding_event_id == first_pass.meta.event_id
    assert s.mastered_at == day(3)
    assert s.score == 1.0


def test_highest_none_meets_reports_the_best() -> None:
    r = rule(NINE_OF_TEN, "highest")
    best = ev(8, 10, at=day(2))
    s = status_of(r, [ev(5, 10, at=day(1)), best, ev(7, 10, at=day(3))])
    assert (s.status, s.score, s.deciding_event_id) == ("in_progress", 0.8, best.meta.event_id)
    assert s.sentence == (
        "Not yet mastered. None of 3 pieces of evidence meets 9 of 10 correct; "
        "the best was quiz form A on 2026-09-02: score 8/10 is below 9 of 10 correct."
    )


# --- n_times: "knows it, did it once, does it consistently" ---


def test_n_times_counts_pieces_that_meet() -> None:
    r = rule(FOUR_OF_FIVE, "n_times", n=3)
    a, b, c = ev(4, 5, at=day(1)), ev(5, 5, at=day(2)), ev(4, 5, at=day(4))
    two = status_of(r, [a, ev(2, 5, at=day(1, 10)), b])
    assert two.status == "in_progress"
    assert two.sentence == "Not yet mastered. The threshold was met 2 times; 3 are required."
    three = status_of(r, [a, ev(2, 5, at=day(1, 10)), b, ev(1, 5, at=day(3)), c])
    assert (three.status, three.deciding_event_id, three.mastered_at) == ("mastered", c.meta.event_id, day(4))
    assert three.sentence.endswith("at least the 3 required; the 3rd was quiz form A on 2026-09-04.")
    # A later miss does not undo "did it consistently" under n_times.
    assert status_of(r, [a, b, c, ev(0, 5, at=day(9))]).status == "mastered"


def test_n_times_default_n_is_two() -> None:
    r = rule(NINE_OF_TEN, "n_times")
    assert status_of(r, [ev(9, 10, at=day(1))]).status == "in_progress"
    assert status_of(r, [ev(9, 10, at=day(1)), ev(9, 10, at=day(1, 11))]).status == "mastered"


def test_n_times_distinct_days_uses_the_local_date_of_each_event() -> None:
    r = rule(NINE_OF_TEN, "n_times", n=2, distinct_days=True)
    morning, afternoon = ev(9, 10, at=day(14, 8)), ev(9, 10, at=day(14, 15))
    assert status_of(r, [morning, afternoon]).status == "in_progress"
    # 20:00 in Chicago is 01:00Z the next day; still the 14th in that classroom.
    evening = ev(9, 10, at=day(14, 20))
    assert status_of(r, [morning, evening]).status == "in_progress"
    # 23:30 on the 14th and 00:30 on the 15th (both the 15th in UTC) are two local days.
    late, early = ev(9, 10, at=day(14, 23, 30)), ev(10, 10, at=day(15, 0, 30))
    s = status_of(r, [late, early])
    assert (s.status, s.deciding_event_id) == ("mastered", early.meta.event_id)
    assert s.sentence == (
        "Mastered. The threshold was met 2 different days, at least the 2 required; "
        "the 2nd was quiz form A on 2026-09-15."
    )


def test_n_times_distinct_days_ignores_misses_on_a_day() -> None:
    r = rule(POWER_UP_80, "n_times", n=2, distinct_days=True)
    recs = [
        ev(percent=60, at=day(1)),
        ev(percent=85, at=day(2)),
        ev(percent=70, at=day(3)),
        ev(percent=80, at=day(3, 14)),
    ]
    assert status_of(r, recs).status == "mastered"
    assert status_of(r, recs).mastered_at == day(3, 14)


# --- average ---


def test_average_of_normalised_scores() -> None:
    r = rule({"kind": "correct_of", "min_correct": 7, "of": 10}, "average")
    # (0.5 + 0.7 + 0.9) / 3 = 0.7: exactly at the threshold meets (no float hair-splitting).
    s = status_of(r, [ev(5, 10, at=day(1)), ev(7, 10, at=day(2)), ev(9, 10, at=day(3))])
    assert s.status == "mastered"
    assert s.score == pytest.approx(0.7)
    assert s.sentence == "Mastered. The average of 3 scores is 0.700, which meets the threshold 0.700."
    below = status_of(r, [ev(5, 10, at=day(1)), ev(7, 10, at=day(2)), ev(8, 10, at=day(3))])
    assert below.status == "in_progress"
    assert below.score == pytest.approx(2 / 3)


def test_average_mixes_kinds_on_one_scale() -> None:
    r = rule(POWER_UP_80, "average")
    # 9/10 → 0.9, 70 % → 0.7, 17/20 → 0.85: mean 0.8167 meets 80 %.
    s = status_of(r, [ev(9, 10, at=day(1)), ev(percent=70, at=day(2)), ev(17, 20, at=day(3))])
    assert s.score == pytest.approx((0.9 + 0.7 + 0.85) / 3)
    assert s.status == "mastered"


def test_average_of_rubric_levels() -> None:
    r = rule(RUBRIC, "average")
    # developing 1/3, exemplary 1, proficient 2/3: mean 2/3 = proficient.
    recs = [
        ev(level="developing", at=day(1)),
        ev(level="exemplary", at=day(2)),
        ev(level="proficient", at=day(3)),
    ]
    s = status_of(r, recs)
    assert s.status == "mastered"
    assert s.score == pytest.approx(2 / 3)


def test_unreadable_score_counts_as_zero_in_average() -> None:
    r = rule(POWER_UP_80, "average")
    s = status_of(r, [ev(level="proficient", at=day(1)), ev(10, 10, at=day(2))])
    assert s.score == pytest.approx(0.5)


# --- decaying_average ---


def test_decaying_average_weight_065_over_05_07_09() -> None:
    # 0.65 × 0.9 + 0.35 × mean(0.5, 0.7) = 0.585 + 0.21 = 0.795
    recs = [ev(5, 10, at=day(1)), ev(7, 10, at=day(2)), ev(9, 10, at=day(3))]
    under_80 = status_of(rule(FOUR_OF_FIVE, "decaying_average"), recs)
    assert under_80.status == "in_progress"
    assert under_80.score == pytest.approx(0.795)
    assert under_80.sentence == (
        "Not yet mastered. The decaying average is 0.65 × latest 0.900 + 0.35 × mean of earlier "
        "0.600 = 0.795, which is below 0.800."
    )
    at_795 = status_of(rule({"kind": "percent", "min": 79.5}, "decaying_average"), recs)
    assert at_795.status == "mastered"
    # Plain average of the same scores is 0.7: the decay rewards the recent growth.
    assert status_of(rule(FOUR_OF_FIVE, "average"), recs).score == pytest.approx(0.7)


def test_decaying_average_with_one_score_and_other_weights() -> None:
    s = status_of(rule(FOUR_OF_FIVE, "decaying_average"), [ev(4, 5)])
    assert (s.status, s.score) == ("mastered", 0.8)
    assert s.sentence == "Mastered. The decaying average is the only score, 0.800, which meets 0.800."
    recs = [ev(2, 10, at=day(1)), ev(4, 10, at=day(2)), ev(9, 10, at=day(3))]
    # weight 0.5: 0.5 × 0.9 + 0.5 × 0.3 = 0.6; weight 1: only the latest counts.
    assert status_of(rule(FOUR_OF_FIVE, "decaying_average", weight=0.5), recs).score == pytest.approx(0.6)
    assert status_of(rule(FOUR_OF_FIVE, "decaying_average", weight=1), recs).score == pytest.approx(0.9)


# --- bkt ---


def test_bkt_posterior_by_hand_right_wrong_right_right() -> None:
    """Bayesian knowledge tracing (Corbett & Anderson 1995), one step per observation:

        right: P(L | right) = P(L)(1 − slip) / (P(L)(1 − slip) + (1 − P(L)) guess)
        wrong: P(L | wrong) = P(L) slip       / (P(L) slip       + (1 − P(L))(1 − guess))
        then learning:  P(L)' = P(L | obs) + (1 − P(L | obs)) learn

    prior 0.3, learn 0.1, guess 0.2, slip 0.1, sequence right, wrong, right, right:
        right: 0.27 / (0.27 + 0.14) = 27/41;           + (14/41)(0.1)   → 142/205
        wrong: (142/2050) / (142/2050 + 504/2050) = 71/323;            → 481/1615
        right: 4329/16150 / (4329 + 2268)/16150 = 481/733;             → 2531/3665
        right: 22779/36650 / (22779 + 2268)/36650 = 2531/2783;         → 12781/13915 ≈ 0.918505
    """
    calc = Bkt(prior=0.3, learn=0.1, guess=0.2, slip=0.1, mastery_probability=0.95)
    steps = [Fraction(142, 205), Fraction(481, 1615), Fraction(2531, 3665), Fraction(12781, 13915)]
    seq = [True, False, True, True]
    for i, expected in enumerate(steps, start=1):
        assert bkt_probability(seq[:i], calc) == pytest.approx(float(expected), abs=1e-9)

    r = rule(NINE_OF_TEN, "bkt", prior=0.3, learn=0.1, guess=0.2, slip=0.1)
    recs = [ev(9, 10, at=day(1)), ev(3, 10, at=day(2)), ev(10, 10, at=day(3)), ev(9, 10, at=day(4))]
    s = status_of(r, recs)
    assert s.score == pytest.approx(12781 / 13915, abs=1e-9)
    assert s.status == "in_progress"  # 0.9185 < 0.95
    assert s.sentence == (
        "Not yet mastered. After 4 observations the probability the skill is known is 0.919, "
        "which is below 0.95."
    )
    lower_bar = rule(NINE_OF_TEN, "bkt", prior=0.3, learn=0.1, guess=0.2, slip=0.1, mastery_probability=0.9)
    assert status_of(lower_bar, recs).status == "mastered"


def test_bkt_defaults_three_right_answers_reach_095() -> None:
    # Defaults prior 0.25, learn 0.15, guess 0.2, slip 0.1:
    #   right: 0.225 / 0.375 = 0.6 → 0.6 + 0.4 × 0.15 = 0.66
    #   right: 0.594 / (0.594 + 0.068) = 297/331 → 3021/3310 ≈ 0.912689
    #   right: 27189/27767 → 272757/277670 ≈ 0.982306
    r = rule(NINE_OF_TEN, "bkt")
    assert status_of(r, [ev(9, 10, at=day(1))]).score == pytest.approx(0.66)
    two = status_of(r, [ev(9, 10, at=day(1)), ev(9, 10, at=day(2))])
    assert two.status == "in_progress"
    assert two.score == pytest.approx(3021 / 3310, abs=1e-9)
    three = status_of(r, [ev(9, 10, at=day(1)), ev(9, 10, at=day(2)), ev(10, 10, at=day(3))])
    assert three.status == "mastered"
    assert three.score == pytest.approx(272757 / 277670, abs=1e-9)
    assert three.mastered_at == day(3)


def test_bkt_observation_is_meeting_the_threshold_not_the_raw_score() -> None:
    r = rule(NINE_OF_TEN, "bkt")
    # 8/10 is a "wrong" observation under 9 of 10 although most items were right.
    assert status_of(r, [ev(8, 10)]).score == pytest.approx(bkt_probability([False], Bkt()))


def test_bkt_rejects_parameters_where_a_right_answer_is_no_evidence() -> None:
    with pytest.raises(ValueError, match="guess \\+ slip must be below 1"):
        Bkt(guess=0.6, slip=0.4)
