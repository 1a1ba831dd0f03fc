"""Rule versions, mastered_at and the lines `explain` shows."""

from __future__ import annotations

from datetime import timedelta

from domain.rules.versions import rule_in_force
from services.catalog import ObjectiveView
from tests.unit.rules_builders import (
    NINE_OF_TEN,
    POWER_UP_80,
    day,
    ev,
    override,
    rule,
    status_of,
    version,
    void,
)

LENIENT = rule({"kind": "correct_of", "min_correct": 7, "of": 10})
STRICT = rule(NINE_OF_TEN)


def test_status_at_a_time_uses_the_rule_in_force_then() -> None:
    # v1 (7 of 10) from Sept 1; v2 (9 of 10) from Oct 1.
    versions = [version(1, LENIENT, day(1)), version(2, STRICT, day(31, 0, 0))]
    recs = [ev(8, 10, at=day(14))]
    sept = status_of(versions, recs, at=day(20))
    octo = status_of(versions, recs, at=day(35))
    assert (sept.status, sept.rule_version) == ("mastered", 1)
    assert (octo.status, octo.rule_version) == ("in_progress", 2)
    # Every piece is judged by the rule in force at the time asked about,
    # including evidence that occurred under the earlier rule.
    assert octo.sentence.endswith("score 8/10 is below 9 of 10 correct.")


def test_a_later_rule_version_does_not_change_an_earlier_as_of() -> None:
    recs = [ev(8, 10, at=day(14))]
    before = status_of([version(1, LENIENT, day(1))], recs, at=day(20))
    # v2 issued on Oct 5 (recorded then), effective Oct 1.
    after = status_of(
        [version(1, LENIENT, day(1)), version(2, STRICT, day(31, 0, 0), recorded=day(35))], recs, at=day(20)
    )
    assert before == after


def test_rule_in_force_before_the_first_effective_from_is_the_first() -> None:
    v1, v2 = version(1, LENIENT, day(10)), version(2, STRICT, day(20))
    assert rule_in_force([v2, v1], day(1)) == v1
    assert rule_in_force([v1, v2], day(10)) == v1  # effective_from is inclusive
    assert rule_in_force([v1, v2], day(20)) == v2
    assert rule_in_force([], day(20)) is None
    # Backfilled evidence from before any rule is judged by the first rule.
    assert status_of([v1, v2], [ev(8, 10, at=day(2))], at=day(5)).status == "mastered"


def test_versions_with_the_same_effective_from_take_the_later_version() -> None:
    v1, v2 = version(1, LENIENT, day(10)), version(2, STRICT, day(10))
    assert rule_in_force([v2, v1], day(12)) == v2


def test_no_rule_yet_is_not_started() -> None:
    s = status_of([], [ev(9, 10)])
    assert (s.status, s.rule_version, s.sentence) == ("not_started", None, "The objective has no rule yet.")


def test_versions_known_at_filters_on_when_a_version_was_recorded() -> None:
    v1 = version(1, LENIENT, day(1), recorded=day(1))
    v2 = version(2, STRICT, day(5), recorded=day(15))  # issued on the 15th, back-dated to the 5th
    view = ObjectiveView("o1", "Solve", "math", "alg", "u1", 1, (), (v1, v2), 2)
    assert view.versions_known_at(None) == (v1, v2)
    assert view.versions_known_at(day(10)) == (v1,)
    assert view.versions_known_at(day(15)) == (v1, v2)
    recs = [ev(8, 10, at=day(8))]
    # Known on the 10th: the strict rule did not exist yet, so the 8/10 was mastery.
    assert status_of(view.versions_known_at(day(10)), recs, at=day(10)).status == "mastered"
    # Known now: the back-dated strict rule applies on the 10th.
    assert status_of(view.versions_known_at(None), recs, at=day(10)).status == "in_progress"
    assert view.versions_known_at(day(1) - timedelta(seconds=1)) == ()


# --- mastered_at ---


def test_mastered_at_latest_is_the_start_of_the_current_run() -> None:
    r = rule(NINE_OF_TEN)
    recs = [ev(9, 10, at=day(1)), ev(5, 10, at=day(2)), ev(9, 10, at=day(3)), ev(10, 10, at=day(4))]
    assert status_of(r, recs).mastered_at == day(3)
    assert status_of(r, recs[:2]).mastered_at is None


def test_mastered_at_average_is_where_every_longer_prefix_stays_mastered() -> None:
    r = rule({"kind": "correct_of", "min_correct": 7, "of": 10}, "average")
    # means: 0.5 (no), 0.75 (yes), 0.633 (no), 0.725 (yes), 0.76 (yes)
    recs = [
        ev(5, 10, at=day(1)),
        ev(10, 10, at=day(2)),
        ev(4, 10, at=day(3)),
        ev(10, 10, at=day(4)),
        ev(9, 10, at=day(5)),
    ]
    s = status_of(r, recs)
    assert (s.status, s.mastered_at) == ("mastered", day(4))


def test_mastered_at_override_is_the_override() -> None:
    assert status_of(rule(NINE_OF_TEN), [override("mastered", day(7))]).mastered_at == day(7)


# --- explain lines ---


def test_explain_lines_say_why_each_piece_did_or_did_not_meet() -> None:
    r = rule(NINE_OF_TEN, time_limit=600)
    below = ev(8, 10, at=day(1), form="A")
    slow = ev(10, 10, at=day(2), form="B", duration=1000, factor=1.5)
    wrong = ev(2, 10, at=day(3), form="C")
    good = ev(9, 10, at=day(4), form="D", duration=850, factor=1.5, kind="oral")
    s = status_of(r, [below, slow, wrong, void(wrong.meta.event_id, day(5)), good], lines=True)
    lines = {x.event_id: x for x in s.evidence}
    assert [x.event_id for x in s.evidence] == [e.meta.event_id for e in (below, slow, wrong, good)]
    assert (lines[below.meta.event_id].meets, lines[below.meta.event_id].reason) == (
        False,
        "score 8/10 is below 9 of 10 correct",
    )
    assert lines[slow.meta.event_id].reason == (
        "took 1000 s, over the 900 s allowed (the 600 s limit × 1.5 extended time); counts as a miss"
    )
    assert (lines[wrong.meta.event_id].counted, lines[wrong.meta.event_id].reason) == (
        False,
        "voided; it no longer counts",
    )
    g = lines[good.meta.event_id]
    assert (g.meets, g.counted, g.reason, g.kind, g.form, g.score) == (
        True,
        True,
        "score 9/10 meets 9 of 10 correct",
        "oral",
        "D",
        "9/10",
    )
    assert s.status == "mastered"


def test_explain_lines_under_an_override() -> None:
    r = rule(POWER_UP_80)
    e = ev(percent=60, at=day(1))
    s = status_of(r, [e, override("mastered", day(3))], lines=True)
    (line,) = s.evidence
    assert (line.meets, line.counted) == (False, True)
    assert line.reason == "score 60 % is below at least 80 %; superseded by the override of 2026-09-03"


def test_explain_lines_without_a_rule() -> None:
    (line,) = status_of([], [ev(9, 10)], lines=True).evidence
    assert (line.counted, line.reason) == (False, "the objective has no rule to judge it by")


def test_lines_only_when_asked() -> None:
    assert status_of(rule(NINE_OF_TEN), [ev(9, 10)]).evidence == ()
