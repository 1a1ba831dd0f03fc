"""The demo district's school calendar and bell schedule, in its local time.

The district keeps US Central time: UTC−6, and daylight time UTC−5 from the
second Sunday in March to the first Sunday in November (the US rule since
2007), so a school year's events carry -05:00 in the autumn and late spring
and -06:00 in winter. The rule is written out here rather than read from
the system's time-zone database, so the same seed gives the same bytes on
any machine whatever its tzdata says.

A school year (named by the calendar year it starts in) runs from the
Monday on or after 20 August to the Friday on or before 5 June, Monday to
Friday, less Labor Day, a professional day in October, Thanksgiving
Wednesday to Friday, two weeks of winter break, Martin Luther King Jr. Day,
Presidents' Day, a spring-break week in March and Memorial Day: about 178
school days. Classes meet every school day in one of seven 50-minute
periods between 08:00 and 14:50.
"""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

STANDARD = timezone(timedelta(hours=-6), "CST")
DAYLIGHT = timezone(timedelta(hours=-5), "CDT")
PERIOD_MINUTES = 50
# Period p (1-7) starts at PERIOD_STARTS[p - 1] minutes after midnight:
# 08:00, 08:55, 09:50, 10:45, lunch, 12:10, 13:05, 14:00 (the last ends 14:50).
PERIOD_STARTS = (480, 535, 590, 645, 730, 785, 840)
SCHOOL_OPENS = PERIOD_STARTS[0]
SCHOOL_CLOSES = PERIOD_STARTS[-1] + PERIOD_MINUTES


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th (1-based) `weekday` (Monday 0) of a month."""
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    nxt = date(year + month // 12, month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


@functools.cache
def _daylight_time(year: int) -> tuple[date, date]:
    """The second Sunday in March and the first Sunday in November, 02:00 local."""
    return _nth_weekday(year, 3, 6, 2), _nth_weekday(year, 11, 6, 1)


def offset_on(day: date, minute: float) -> timezone:
    """Central time's offset at `minute` after local midnight of `day`."""
    begins, ends = _daylight_time(day.year)
    if begins < day < ends:
        return DAYLIGHT
    if day == begins:
        return DAYLIGHT if minute >= 120 else STANDARD
    if day == ends:
        return STANDARD if minute >= 120 else DAYLIGHT
    return STANDARD


def local(day: date, minute: float) -> datetime:
    """`minute` (fractions are seconds) after local midnight of `day`, with its offset."""
    whole = int(minute * 60)
    return datetime(day.year, day.month, day.day, tzinfo=offset_on(day, minute)) + timedelta(seconds=whole)


def breaks(year: int) -> list[tuple[str, date, date]]:
    """The named days off (first and last day) of school year `year`."""
    thanksgiving = _nth_weekday(year, 11, 3, 4)
    back_in_january = date(year + 1, 1, 2) + timedelta(days=(0 - date(year + 1, 1, 2).weekday()) % 7)
    spring = _nth_weekday(year + 1, 3, 0, 3)
    return [
        ("Labor Day", _nth_weekday(year, 9, 0, 1), _nth_weekday(year, 9, 0, 1)),
        ("professional day", _nth_weekday(year, 10, 0, 2), _nth_weekday(year, 10, 0, 2)),
        ("Thanksgiving", thanksgiving - timedelta(days=1), thanksgiving + timedelta(days=1)),
        ("winter break", back_in_january - timedelta(days=14), back_in_january - timedelta(days=1)),
        ("Martin Luther King Jr. Day", _nth_weekday(year + 1, 1, 0, 3), _nth_weekday(year + 1, 1, 0, 3)),
        ("Presidents' Day", _nth_weekday(year + 1, 2, 0, 3), _nth_weekday(year + 1, 2, 0, 3)),
        ("spring break", spring, spring + timedelta(days=4)),
        ("Memorial Day", _last_weekday(year + 1, 5, 0), _last_weekday(year + 1, 5, 0)),
    ]


def first_day(year: int) -> date:
    start = date(year, 8, 20)
    return start + timedelta(days=(0 - start.weekday()) % 7)


def last_day(year: int) -> date:
    end = date(year + 1, 6, 5)
    return end - timedelta(days=(end.weekday() - 4) % 7)


def school_days(year: int) -> list[date]:
    off = {
        first + timedelta(days=i) for _, first, last in breaks(year) for i in range((last - first).days + 1)
    }
    day, end, out = first_day(year), last_day(year), []
    while day <= end:
        if day.weekday() < 5 and day not in off:
            out.append(day)
        day += timedelta(days=1)
    return out


@dataclass(frozen=True)
class Calendar:
    """The school days of consecutive school years, numbered from 0.

    Times inside the simulation are keys: day number × 1440 + local minute,
    which order like the instants they stand for."""

    first_year: int
    years: int
    days: tuple[date, ...] = field(init=False)
    year_starts: tuple[int, ...] = field(init=False)

    def __post_init__(self) -> None:
        days: list[date] = []
        starts: list[int] = []
        for year in range(self.first_year, self.first_year + self.years):
            starts.append(len(days))
            days.extend(school_days(year))
        object.__setattr__(self, "days", tuple(days))
        object.__setattr__(self, "year_starts", tuple(starts))

    def year_end(self, k: int) -> int:
        """One past the last day number of the k-th school year."""
        return self.year_starts[k + 1] if k + 1 < self.years else len(self.days)

    def when(self, key: float) -> datetime:
        day = int(key // 1440)
        return local(self.days[day], key - day * 1440)

    def day_on_or_after(self, when: datetime, minute_of_day: float) -> int:
        """The first day number whose `minute_of_day` is at or after `when`
        (len(days) when none is)."""
        here = when.astimezone(offset_on(when.date(), 720)).replace(tzinfo=None)
        i = bisect.bisect_left(self.days, here.date())
        today = i < len(self.days) and self.days[i] == here.date()
        if today and here.hour * 60 + here.minute + here.second / 60 > minute_of_day:
            i += 1  # today's session has begun: the next one
        return i
