"""A seeded synthetic district: `mastery demo` serves one, the bench measures one.

One generator for both (docs/demo.md): middle schools and one small school
(roster.py), Math 6 to Algebra 1 with the seeds' thresholds and methods
(catalog.py), a school calendar in the district's local time (calendar.py),
students who follow each objective's rules (learner.py), benchmarks, goals,
overrides and voids (classroom.py), each event recorded minutes to days
after it occurred by the teacher, the student or the assessment platform
(recording.py). Same seed, same district, byte for byte.

* The demo takes `school_year(cut)`: everything that occurred and was
  recorded before `cut`, in the order it was recorded, each event with its
  recorded_at and recorder, for the backfill path.
* The bench takes `events(total, tail)`: exactly `total` events in
  `occurred_at` order over the district's school years (the pace set so
  that they fill them), then `tail` more in the year after. One extra
  student, `heavy`, gets `heavy_events` of the first `total` (for the audit
  replay: the demo has none), clocked by the event count rather than by
  the calendar.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from services.demo.calendar import Calendar
from services.demo.catalog import ALL, path_from
from services.demo.learner import Event, Learner
from services.demo.recording import Happening
from services.demo.roster import FIRST, LAST, Roster, layout
from services.demo.simulation import Simulation

# The demo's pace: the mean number of class sessions between a student's
# retakes (a new objective takes LEARN times as long). At 1.7 a student records
# about 0.38 events a school day and masters 15 to 37 objectives a year (10th
# to 90th percentile; the courses have 30 and 40): docs/demo.md.
DEMO_GAP = 1.7
# Measured (1,000 students, two years): events per student per school day at
# each pace, so the bench can find the pace for the rate it needs. Below the
# last rate, rate ≈ _A / (gap + _B). A rate above the first is more than
# classes hold.
PACES = ((1.089, 0.3), (0.746, 0.6), (0.549, 1.0), (0.335, 2.0), (0.195, 4.0))
_A, _B = 0.907, 0.653
MAX_RATE = PACES[0][0]
HEAVY = "heavy"


def pace_for(rate: float) -> float:
    """The pace (DEMO_GAP's unit) at which students record `rate` events a school day."""
    if rate > MAX_RATE:
        raise ValueError(
            f"{rate:.2f} events per student per school day is more than classes hold "
            f"(at most {MAX_RATE:.2f}): give more students or fewer events"
        )
    if rate <= 0:
        return 1e9
    for (r1, g1), (r0, g0) in itertools.pairwise(PACES):
        if rate >= r0:
            return g0 + (g1 - g0) * (rate - r0) / (r1 - r0)
    return _A / rate - _B


__all__ = ["District", "Event", "Happening", "batches"]


@dataclass(frozen=True)
class District:
    seed: int
    students: int
    heavy_events: int = 5000
    first_year: int = 2023  # the school year 2023-24
    years: int = 2

    @cached_property
    def roster(self) -> Roster:
        return layout(self.students, self.seed)

    @cached_property
    def calendar(self) -> Calendar:
        # A spare year: the bench's tail, and a stream that runs a little long, go on into it.
        return Calendar(self.first_year, self.years + 1)

    @property
    def student_ids(self) -> list[str]:
        ids = [s for section in self.roster.sections for s in section.members]
        return ids + ([HEAVY] if self.heavy_events else [])

    def student_name(self, index: int) -> str:
        rng = random.Random(self.seed * 104729 + index)
        return f"{rng.choice(FIRST)} {rng.choice(LAST)}"

    @property
    def objective_ids(self) -> list[str]:
        return [o.objective_id for o in ALL]

    def classes(self) -> list[tuple[str, str, list[str]]]:
        """(class_id, school_id, student_ids); `heavy` joins the first class."""
        out = []
        for n, s in enumerate(self.roster.sections):
            extra = [HEAVY] if n == 0 and self.heavy_events else []
            out.append((s.class_id, s.school_id, [*s.members, *extra]))
        return out

    def schools(self) -> list[str]:
        return [s.school_id for s in self.roster.schools]

    def school_bodies(self) -> list[tuple[str, dict[str, Any]]]:
        return [(s.school_id, {"name": s.name}) for s in self.roster.schools]

    def student_bodies(self) -> list[tuple[str, dict[str, Any]]]:
        first = self.roster.sections[0]
        of = {s: sec for sec in self.roster.sections for s in sec.members} | {HEAVY: first}
        return [
            (sid, {"name": self.student_name(i), "grade": of[sid].grade, "school_id": of[sid].school_id})
            for i, sid in enumerate(self.student_ids)
        ]

    def class_bodies(self) -> list[tuple[str, dict[str, Any]]]:
        sections = self.roster.sections
        return [
            (
                cid,
                {
                    "name": s.name,
                    "school_id": school,
                    "teacher_ids": [s.teacher.teacher_id],
                    "student_ids": m,
                },
            )
            for s, (cid, school, m) in zip(sections, self.classes(), strict=True)
        ]

    def objective_bodies(self) -> list[tuple[str, dict[str, Any]]]:
        """In force from the summer before the first school year."""
        effective = f"{self.first_year}-07-01T00:00:00-05:00"
        return [(o.objective_id, o.body(effective)) for o in ALL]

    # --- the demo --------------------------------------------------------------

    def school_year(self, cut: datetime) -> Iterator[Happening]:
        """What occurred in the district's school years and was recorded before
        `cut`, in recorded order (ties: the order it occurred). The stream is
        re-sorted through a buffer of what is not yet recorded: nothing is
        recorded before it occurs, so an event recorded no later than the one
        occurring now can be let go."""
        sim = Simulation(self.roster, self.calendar, self.seed, lambda day: DEMO_GAP)
        end = self.calendar.year_end(self.years - 1) * 1440
        waiting: list[tuple[float, int, Happening]] = []
        cut_ts = cut.timestamp()
        for n, h in enumerate(sim.run()):
            if sim.now >= end:
                break
            now = self.calendar.when(sim.now).timestamp()
            if now >= cut_ts:
                break
            while waiting and waiting[0][0] <= now:
                yield heapq.heappop(waiting)[2]
            recorded = h.recorded_at.timestamp()
            if recorded <= cut_ts:
                heapq.heappush(waiting, (recorded, n, h))
        while waiting:
            yield heapq.heappop(waiting)[2]

    # --- the bench -------------------------------------------------------------

    def events(self, total: int, tail: int = 0) -> Iterator[Event]:
        """`total` learning events in occurred_at order over the district's school
        years, then `tail` more over the school year after them.

        The pace starts from the measured table (PACES) and is steered as the
        stream goes: students behind the schedule (events so far against the
        share of school days gone) work a little faster, ahead of it a little
        slower, so that `total` ends a little before the last day of the
        district's years (it stays within them at the bench's sizes, down to the
        smoke run's 40 students: tests/unit/test_demo_district.py)."""
        ordinary = sum(len(s.members) for s in self.roster.sections)
        days = self.calendar.year_end(self.years - 1)
        spare = len(self.calendar.days) - days
        heavy_total = min(self.heavy_events, total // 4)
        main = total - heavy_total
        main_gap = pace_for(main / (ordinary * days))
        tail_gap = pace_for(tail / (ordinary * spare)) if tail else main_gap
        taken = [0]  # ordinary events yielded so far

        def gap(day: int) -> float:
            # On schedule to finish a little early (95 % of the days), not to run out.
            if day < days:
                base, expected = main_gap, main * min(1.0, (day + 1) / (0.95 * days))
            else:
                base, expected = tail_gap, main + tail * min(1.0, (day - days + 1) / (0.9 * spare))
            return base * min(3.0, max(0.2, ((taken[0] + 50) / (expected + 50)) ** 8))

        sim = Simulation(self.roster, self.calendar, self.seed, gap)
        stream = sim.run()
        heavy = None
        if heavy_total:
            first = self.roster.sections[0]
            sim.section[HEAVY] = first
            heavy = Learner(HEAVY, 0.5, None, path_from(first.course))
        every = max(1, total // max(1, heavy_total))
        heavy_done = 0
        for n in range(total + tail):
            if heavy is not None and heavy_done < heavy_total and n % every == 0:
                heavy_done += 1
                yield sim.act(sim.now, heavy, alone=True)[0][0].event
                continue
            h = next(stream, None)
            if h is None:
                raise ValueError(f"the district's calendar ran out after {n:,} events")
            taken[0] += 1
            yield h.event


def batches(events: Iterator[Event], size: int) -> Iterator[list[Event]]:
    batch: list[Event] = []
    for ev in events:
        batch.append(ev)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
