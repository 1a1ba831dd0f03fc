"""The demo district looks like a school year (issue 13, item 5), as properties
of the generated events, checked against facts written out here rather than
read back from the generator: the calendar of 2025-26, US Central time, the
seeds' rules. The generator does no I/O; the store's view is
tests/integration/test_demo.py."""

from __future__ import annotations

import collections
import functools
import json
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest

from services.demo.calendar import school_days
from services.demo.district import District, Happening
from services.demo.prepare import demo_district, demo_year
from services.demo.recording import MAX_DELAY, SYNC_RECORDER

SUMMER = datetime(2026, 7, 1, tzinfo=UTC)  # the demo on that day shows 2025-26, whole
# 2025-26, from the district calendar's rules, written out by hand.
FIRST, LAST = date(2025, 8, 25), date(2026, 6, 5)
DAYS_OFF = {
    date(2025, 9, 1),  # Labor Day
    date(2025, 10, 13),  # professional day
    *(date(2025, 11, d) for d in (26, 27, 28)),  # Thanksgiving
    *(date(2025, 12, d) for d in (22, 23, 24, 25, 26, 29, 30, 31)),  # winter break
    date(2026, 1, 1),
    date(2026, 1, 2),
    date(2026, 1, 19),  # Martin Luther King Jr. Day
    date(2026, 2, 16),  # Presidents' Day
    *(date(2026, 3, d) for d in (16, 17, 18, 19, 20)),  # spring break
    date(2026, 5, 25),  # Memorial Day
}
DAYLIGHT = (date(2025, 3, 9), date(2025, 11, 2), date(2026, 3, 8), date(2026, 11, 1))  # 02:00 local
THRESHOLDS = {"F": Fraction(9, 10), "M": Fraction(4, 5), "P": Fraction(4, 5), "R": Fraction(2, 3)}


@functools.cache
def _year(students: int = 60, seed: int = 7) -> tuple[District, list[Happening]]:
    district, cut = demo_district(students, seed, SUMMER)
    return district, list(district.school_year(cut))


def _events() -> list[dict[str, Any]]:
    return [h.event for h in _year()[1]]


def _at(e: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(e["occurred_at"])


def _section_of(district: District) -> dict[str, Any]:
    return district.roster.section_of()


def test_events_happen_in_school_hours_on_school_days_in_central_time() -> None:
    offsets: collections.Counter[timedelta | None] = collections.Counter()
    for e in _events():
        t = _at(e)
        day = t.date()
        assert FIRST <= day <= LAST and t.weekday() < 5 and day not in DAYS_OFF, e
        assert 8 * 60 <= t.hour * 60 + t.minute < 15 * 60, e
        daylight = DAYLIGHT[0] <= day < DAYLIGHT[1] or DAYLIGHT[2] <= day < DAYLIGHT[3]
        assert t.utcoffset() == timedelta(hours=-5 if daylight else -6), e
        offsets[t.utcoffset()] += 1
    assert set(offsets) == {timedelta(hours=-5), timedelta(hours=-6)}


def test_the_calendar_has_a_school_years_worth_of_days() -> None:
    for year in range(2023, 2028):
        days = school_days(year)
        assert 175 <= len(days) <= 185, (year, len(days))
        assert all(d.weekday() < 5 for d in days)
    assert not DAYS_OFF & set(school_days(2025)) and school_days(2025)[0] == FIRST


def test_every_rostered_student_has_a_history() -> None:
    district, happenings = _year()
    attempted = {h.event["student_id"] for h in happenings if h.event["type"] == "attempt"}
    assert set(district.student_ids) == attempted
    # Also with few students, as early in the year as the demo shows it (15 school days).
    small, cut = demo_district(30, 3, datetime(2026, 9, 15, 12, tzinfo=UTC))
    assert small.first_year == 2026
    assert {h.event["student_id"] for h in small.school_year(cut)} == set(small.student_ids)


def test_retakes_are_mostly_on_the_other_form_and_after_a_reflection() -> None:
    events = _events()
    by_id = {e["event_id"]: e for e in events}
    reflected: dict[str, datetime] = {}
    for e in events:
        if e["type"] == "reflection":
            reflected.setdefault(e["on_event"], _at(e))
    retakes = [e for e in events if e["type"] == "retake"]
    other_form = sum(by_id[r["retake_of"]]["form"] != r["form"] for r in retakes)
    after_reflection = sum(
        r["retake_of"] in reflected and reflected[r["retake_of"]] <= _at(r) for r in retakes
    )
    assert len(retakes) > 500
    assert 0.9 <= other_form / len(retakes) < 1  # the same form rarely, but it happens (a flag to show)
    assert 0.9 <= after_reflection / len(retakes) < 1
    # A reflection follows a miss: its score is below the objective's threshold (or it ran over time).
    for e in events:
        if e["type"] == "reflection":
            miss = by_id[e["on_event"]]
            assert not _meets(miss) or "ran out of time" in e["text"], (miss, e)


def _meets(e: dict[str, Any]) -> bool:
    kind, s = _kind(e["objective_id"]), e["score"]
    if "correct" in s:
        return Fraction(s["correct"], s["total"]) >= THRESHOLDS[kind]
    if "percent" in s:
        return bool(s["percent"] >= 80)
    return bool(s["rubric_level"] in ("proficient", "exemplary"))


@functools.cache
def _kinds() -> dict[str, str]:
    """Objective -> F/M/P/R, read from the rule each objective is PUT with."""
    out = {}
    for oid, body in _year()[0].objective_bodies():
        t = body["rule"]["threshold"]
        out[oid] = {"rubric": "R", "percent": "P"}.get(t["kind"], "F" if t.get("of") == 10 else "M")
    return out


def _kind(oid: str) -> str:
    return _kinds()[oid]


def test_each_event_is_recorded_minutes_to_days_later_by_who_would_record_it() -> None:
    district, happenings = _year()
    section = _section_of(district)
    delays = []
    for h in happenings:
        e = h.event
        delay = h.recorded_at - _at(e)
        assert timedelta(minutes=1) <= delay <= MAX_DELAY, (e, h.recorded_at)
        delays.append(delay)
        if e["type"] == "reflection":
            assert h.recorded_by == f"student:{e['student_id']}"
        elif e["type"] == "benchmark":
            assert h.recorded_by == SYNC_RECORDER
        else:
            assert h.recorded_by == f"teacher:{section[e['student_id']].teacher.name}"
    quick = sum(d < timedelta(hours=1) for d in delays)
    days = sum(d >= timedelta(days=1) for d in delays)
    late = sum(d >= timedelta(days=7) for d in delays)
    assert quick > len(delays) / 4 and days > len(delays) / 10 and 0 < late < len(delays) / 20


def test_the_year_comes_in_recorded_order_and_every_reference_was_recorded_before() -> None:
    recorded: dict[str, datetime] = {}
    previous = None
    for h in _year()[1]:
        assert previous is None or previous <= h.recorded_at
        previous = h.recorded_at
        for field in ("retake_of", "on_event", "target_event_id"):
            if field in h.event:
                assert recorded[h.event[field]] <= _at(h.event), h.event
        recorded[h.event["event_id"]] = h.recorded_at


def test_a_benchmark_is_one_day_per_class_and_its_scores_follow_what_was_shown() -> None:
    district, happenings = _year()
    section = _section_of(district)
    days: dict[tuple[str, str], set[date]] = collections.defaultdict(set)
    shown: dict[tuple[str, str], datetime] = {}  # (student, objective): first met
    agree = disagree = 0
    for e in sorted((h.event for h in happenings), key=_at):
        if e["type"] in ("attempt", "retake") and _meets(e):
            shown.setdefault((e["student_id"], e["objective_id"]), _at(e))
        if e["type"] != "benchmark":
            continue
        days[(section[e["student_id"]].class_id, e["benchmark_id"])].add(_at(e).date())
        for r in e["results"]:
            met = Fraction(r["correct"], r["total"]) >= THRESHOLDS[_kind(r["objective_id"])]
            was_shown = (e["student_id"], r["objective_id"]) in shown
            agree, disagree = (agree + 1, disagree) if met == was_shown else (agree, disagree + 1)
    assert all(len(d) == 1 for d in days.values()), days
    classes = {cid for cid, _ in days}
    assert classes == {s.class_id for s in district.roster.sections}
    assert len(days) == 3 * len(classes)  # fall, winter and spring interims
    assert 0 < disagree < 0.1 * (agree + disagree)  # contradictions: the exception, not noise


def test_thresholds_and_methods_are_the_seeds() -> None:
    rules = [body["rule"] for _, body in _year()[0].objective_bodies()]
    kinds = collections.Counter(json.dumps(r["threshold"], sort_keys=True) for r in rules)
    assert set(kinds) == {
        json.dumps({"kind": "correct_of", "min_correct": 9, "of": 10}, sort_keys=True),
        json.dumps({"kind": "correct_of", "min_correct": 4, "of": 5}, sort_keys=True),
        json.dumps({"kind": "percent", "min": 80}, sort_keys=True),
        json.dumps(
            {
                "kind": "rubric",
                "levels": ["emerging", "developing", "proficient", "exemplary"],
                "min_level": "proficient",
            },
            sort_keys=True,
        ),
    }
    for r in rules:  # nine of ten "within a generous time limit"; nothing else timed
        assert ("time_limit_seconds" in r) == (r["threshold"].get("of") == 10)
    methods = collections.Counter(r["calculation"]["method"] for r in rules)
    assert set(methods) == {"latest", "highest", "n_times", "average", "decaying_average"}
    assert methods["latest"] > sum(methods.values()) / 2


def test_courses_grades_and_a_school_small_enough_to_suppress() -> None:
    district = _year()[0]
    bodies = dict(district.objective_bodies())
    courses = {b["course"] for b in bodies.values()}
    assert courses == {"m6", "m7", "m8", "alg1"}
    for oid, b in bodies.items():  # each course its own units and prerequisites
        assert all(bodies[p]["course"] == b["course"] for p in b["prerequisites"]), oid
    assert {(b["course"], b["unit"]) for b in bodies.values()} >= {("m6", "u5"), ("alg1", "u5")}
    grades: dict[tuple[str, str], int] = collections.Counter(
        (b["school_id"], b["grade"]) for _, b in district.student_bodies()
    )
    assert {g for _, g in grades} == {"6", "7", "8"}
    small = [s for s in district.schools() if all(n < 10 for (sch, _), n in grades.items() if sch == s)]
    assert len(small) == 1 and len(district.schools()) >= 2


def test_overrides_voids_goals_and_late_records_happen_now_and_then() -> None:
    happenings = _year()[1]
    kinds = collections.Counter(h.event["type"] for h in happenings)
    assert kinds["override"] > 0 and kinds["void"] > 0 and kinds["goal"] > 0
    assert kinds["override"] + kinds["void"] < 0.02 * len(happenings)
    by_id = {h.event["event_id"]: h.event for h in happenings}
    for h in happenings:
        if h.event["type"] == "void":  # a score entered twice: the copy goes
            copy = by_id[h.event["target_event_id"]]
            twins = [
                e
                for e in by_id.values()
                if e is not copy and {**e, "event_id": ""} == {**copy, "event_id": ""}
            ]
            assert len(twins) == 1


def test_same_seed_same_bytes() -> None:
    def dump(happenings: list[Happening]) -> bytes:
        rows = [[h.event, h.recorded_at.isoformat(), h.recorded_by] for h in happenings]
        return json.dumps(rows, sort_keys=True).encode()

    district, cut = demo_district(25, 11, SUMMER)
    again, _ = demo_district(25, 11, SUMMER)
    other, _ = demo_district(25, 12, SUMMER)
    assert dump(list(district.school_year(cut))) == dump(list(again.school_year(cut)))
    assert dump(list(district.school_year(cut))) != dump(list(other.school_year(cut)))
    assert district.student_bodies() == again.student_bodies()
    assert district.class_bodies() == again.class_bodies()


def test_the_demo_shows_the_year_under_way_cut_at_the_start_of_today() -> None:
    assert demo_year(date(2026, 12, 1)) == 2026
    assert demo_year(date(2026, 9, 3)) == 2025  # fewer than 15 school days into 2026-27
    assert demo_year(date(2026, 7, 1)) == 2025
    district, cut = demo_district(60, 7, datetime(2026, 1, 21, 15, tzinfo=UTC))
    assert cut == datetime(2026, 1, 21, tzinfo=UTC) + timedelta(hours=6)  # local midnight, -06:00
    part = list(district.school_year(cut))
    assert part and all(_at(h.event) < cut and h.recorded_at <= cut for h in part)
    whole = {h.event["event_id"] for h in _year()[1] if h.recorded_at <= cut}
    assert {h.event["event_id"] for h in part} == whole  # the same year, seen earlier


def test_the_bench_stream_has_exactly_what_it_asks_for_in_occurred_order() -> None:
    district = District(seed=2026, students=40, heavy_events=300)
    total, tail = 4_000, 3_000
    events = list(district.events(total, tail))
    assert len(events) == total + tail
    assert sum(e["student_id"] == "heavy" for e in events[:total]) == 300
    times = [_at(e) for e in events]
    assert times == sorted(times)
    assert times[total - 1].date() <= school_days(district.first_year + district.years - 1)[-1]
    seen: set[str] = set()
    for e in events:
        for field in ("retake_of", "on_event", "target_event_id"):
            if field in e:
                assert e[field] in seen, e
        seen.add(e["event_id"])
    assert list(District(seed=2026, students=40, heavy_events=300).events(total, tail)) == events
    with pytest.raises(ValueError, match="more than classes hold"):
        next(District(seed=1, students=10, heavy_events=0).events(100_000))
