"""Thresholds and the time limit: does one piece of evidence meet the rule? (CONTRACT.md §2)

The numbers are the seeds' own: 9 of 10 within a time limit for most math
objectives, 4 of 5 for long problems ("multiply two three-digit numbers"),
80 % for the weekly Power Up check, rubric levels from emerging to exemplary.
"""

from __future__ import annotations

import pytest

from domain.rules.assessment import assess, normalised_score, threshold_value
from tests.unit.rules_builders import (
    FOUR_OF_FIVE,
    LEVELS,
    NINE_OF_TEN,
    POWER_UP_80,
    RUBRIC,
    day,
    ev,
    rule,
    status_of,
)


@pytest.mark.parametrize(
    ("correct", "total", "meets"),
    [
        (9, 10, True),  # the seed's "nine problems out of ten"
        (10, 10, True),
        (8, 10, False),
        (8, 9, False),  # 0.888… < 0.9: fewer items does not lower the bar
        (18, 20, True),  # the same ratio on a longer quiz
        (17, 19, False),  # 0.8947… just under
        (27, 30, True),
        (26, 29, False),  # 0.8965… just under
    ],
)
def test_nine_of_ten_is_a_ratio_compared_exactly(correct: int, total: int, meets: bool) -> None:
    a = assess(ev(correct, total), rule(NINE_OF_TEN))
    assert a.meets is meets
    assert a.value == pytest.approx(correct / total)
    assert a.over_time is False


@pytest.mark.parametrize(
    ("correct", "total", "meets"),
    [
        (4, 5, True),
        (3, 5, False),
        (8, 10, True),
        (7, 9, False),
        (5, 5, True),
        (12, 15, True),
        (11, 14, False),
    ],
)
def test_four_of_five_for_long_problems(correct: int, total: int, meets: bool) -> None:
    assert assess(ev(correct, total), rule(FOUR_OF_FIVE)).meets is meets


def test_exact_fraction_where_floats_would_round_the_wrong_way() -> None:
    # 2 of 3 has no exact float; the comparison is correct·of >= min_correct·total
    # in integers, so 200/300 meets and 199/300 (one item short) does not.
    two_thirds = rule({"kind": "correct_of", "min_correct": 2, "of": 3})
    assert assess(ev(2, 3), two_thirds).meets
    assert assess(ev(20, 30), two_thirds).meets
    assert not assess(ev(199, 300), two_thirds).meets
    assert assess(ev(200, 300), two_thirds).meets
    # 0 of n: everything meets (a participation objective).
    assert assess(ev(0, 4), rule({"kind": "correct_of", "min_correct": 0, "of": 1})).meets


@pytest.mark.parametrize(
    ("percent", "meets"), [(80, True), (80.0, True), (79.99, False), (100, True), (0, False), (95.5, True)]
)
def test_power_up_80_percent(percent: float, meets: bool) -> None:
    a = assess(ev(percent=percent), rule(POWER_UP_80))
    assert a.meets is meets
    assert a.value == pytest.approx(percent / 100)


def test_correct_of_score_under_a_percent_rule_is_its_ratio() -> None:
    # 8/10 is exactly 80 %: float 8/10 and 80/100 must not differ in the last bit.
    assert assess(ev(8, 10), rule(POWER_UP_80)).meets
    assert assess(ev(4, 5), rule(POWER_UP_80)).meets
    assert not assess(ev(7, 9), rule(POWER_UP_80)).meets


@pytest.mark.parametrize(
    ("percent", "meets"),
    [(90, True), (89.99, False), (100, True)],
)
def test_percent_score_under_a_correct_of_rule(percent: float, meets: bool) -> None:
    # Cross-kind: a percent is compared with min_correct/of as a fraction.
    assert assess(ev(percent=percent), rule(NINE_OF_TEN)).meets is meets


def test_percent_score_at_an_inexact_fraction() -> None:
    # 8 of 9 is 88.88…%: 88.89 meets, 88.88 does not.
    eight_of_nine = rule({"kind": "correct_of", "min_correct": 8, "of": 9})
    assert assess(ev(percent=88.89), eight_of_nine).meets
    assert not assess(ev(percent=88.88), eight_of_nine).meets


@pytest.mark.parametrize(
    ("level", "meets", "value"),
    [
        ("beginning", False, 0.0),
        ("developing", False, 1 / 3),
        ("proficient", True, 2 / 3),
        ("exemplary", True, 1.0),
    ],
)
def test_rubric_meets_at_min_level_or_above(level: str, meets: bool, value: float) -> None:
    a = assess(ev(level=level), rule(RUBRIC))
    assert a.meets is meets
    # A level's score is its index over (number of levels − 1).
    assert a.value == pytest.approx(value)


def test_rubric_level_the_rule_does_not_define_cannot_be_read() -> None:
    a = assess(ev(level="mastery"), rule(RUBRIC))
    assert (a.meets, a.value) == (False, None)
    assert a.reason == "score 'mastery' cannot be read under this rule's threshold"


def test_rubric_level_under_a_numeric_rule_cannot_be_read() -> None:
    a = assess(ev(level="proficient"), rule(NINE_OF_TEN))
    assert (a.meets, a.value) == (False, None)


def test_numeric_score_under_a_rubric_rule_is_compared_on_the_0_1_scale() -> None:
    # proficient is 2/3 on a four-level rubric; 7/10 (0.7) is above it, 6/10 below.
    assert threshold_value(rule(RUBRIC)) == pytest.approx(2 / 3)
    assert assess(ev(7, 10), rule(RUBRIC)).meets
    assert not assess(ev(6, 10), rule(RUBRIC)).meets


def test_threshold_values_on_the_0_1_scale() -> None:
    assert threshold_value(rule(NINE_OF_TEN)) == 0.9
    assert threshold_value(rule(FOUR_OF_FIVE)) == 0.8
    assert threshold_value(rule(POWER_UP_80)) == 0.8
    assert normalised_score(ev(level="developing").score, rule(RUBRIC)) == pytest.approx(1 / 3)


def test_reasons_say_what_was_needed() -> None:
    assert assess(ev(8, 10), rule(NINE_OF_TEN)).reason == "score 8/10 is below 9 of 10 correct"
    assert assess(ev(9, 10), rule(NINE_OF_TEN)).reason == "score 9/10 meets 9 of 10 correct"
    assert assess(ev(percent=75), rule(POWER_UP_80)).reason == "score 75 % is below at least 80 %"
    assert (
        assess(ev(level="developing"), rule(RUBRIC)).reason
        == "score 'developing' is below rubric level 'proficient' or above"
    )
    assert LEVELS.index("proficient") == 2


# --- the time limit: "nine problems out of ten correct within a generous time limit" ---


@pytest.mark.parametrize(
    ("duration", "factor", "over"),
    [
        (None, 1.0, False),  # no duration recorded: the limit cannot be checked
        (599, 1.0, False),
        (600, 1.0, False),  # exactly at the limit is within it
        (601, 1.0, True),
        (899, 1.5, False),  # extended time ×1.5: 900 s allowed
        (900, 1.5, False),
        (901, 1.5, True),
        (1199, 2.0, False),
        (1201, 2.0, True),
    ],
)
def test_time_limit_with_and_without_extended_time(duration: float | None, factor: float, over: bool) -> None:
    a = assess(ev(10, 10, duration=duration, factor=factor), rule(NINE_OF_TEN, time_limit=600))
    assert a.over_time is over
    assert a.meets is not over
    assert a.value == (0.0 if over else 1.0)


def test_over_time_is_a_miss_whatever_the_score_and_says_why() -> None:
    a = assess(ev(10, 10, duration=601), rule(NINE_OF_TEN, time_limit=600))
    assert a.reason == "took 601 s, over the 600 s allowed; counts as a miss"
    b = assess(ev(10, 10, duration=1000, factor=1.5), rule(NINE_OF_TEN, time_limit=600))
    assert b.reason == (
        "took 1000 s, over the 900 s allowed (the 600 s limit × 1.5 extended time); counts as a miss"
    )


def test_no_time_limit_ignores_duration() -> None:
    assert assess(ev(9, 10, duration=99999), rule(NINE_OF_TEN)).meets


def test_over_time_counts_as_zero_in_average() -> None:
    r = rule(POWER_UP_80, "average", time_limit=600)
    # 1.0 (over time → 0), 0.9, 0.9: mean 0.6, not 0.933.
    s = status_of(r, [ev(10, 10, at=day(1), duration=700), ev(9, 10, at=day(2)), ev(9, 10, at=day(3))])
    assert s.status == "in_progress"
    assert s.score == pytest.approx(0.6)


def test_over_time_counts_as_zero_in_decaying_average() -> None:
    r = rule(POWER_UP_80, "decaying_average", time_limit=600)
    # earlier 1.0 and 1.0, latest over time: 0.65 × 0 + 0.35 × 1.0 = 0.35.
    s = status_of(r, [ev(10, 10, at=day(1)), ev(10, 10, at=day(2)), ev(10, 10, at=day(3), duration=601)])
    assert s.score == pytest.approx(0.35)
    assert s.status == "in_progress"


def test_over_time_counts_as_a_wrong_answer_in_bkt() -> None:
    r_timed = rule(NINE_OF_TEN, "bkt", time_limit=600)
    in_time = status_of(r_timed, [ev(10, 10, at=day(1)), ev(10, 10, at=day(2))])
    one_late = status_of(r_timed, [ev(10, 10, at=day(1)), ev(10, 10, at=day(2), duration=601)])
    one_wrong = status_of(r_timed, [ev(10, 10, at=day(1)), ev(0, 10, at=day(2))])
    assert one_late.score == pytest.approx(one_wrong.score)
    assert in_time.score is not None and one_late.score is not None
    assert one_late.score < in_time.score


def test_accommodation_keeps_a_slow_attempt_meeting() -> None:
    r = rule(NINE_OF_TEN, time_limit=600)
    assert status_of(r, [ev(9, 10, duration=850, factor=1.5)]).status == "mastered"
    assert status_of(r, [ev(9, 10, duration=850)]).status == "in_progress"
