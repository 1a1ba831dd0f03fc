"""School years of a district, simulated in the order things happen.

Every class meets in its period each school day. Each student acts at the
times their own pace gives (an assessment when ready, a reflection at the
first class after a miss is entered, the retake after some practice); the
class as a whole sets goals in the third week (in the sections whose teacher
uses goals) and sits the district's interim benchmarks on one day of each
window (no one takes a check in that period). A benchmark's results follow
each student's mastery, so a contradiction is an exception; a teacher
answers some of them (a re-demonstration, an override until the student
shows it again) and leaves the rest for the contradiction list (classroom.py).
A few students arrive with objectives
mastered at their previous school (an override); a teacher who enters a
score twice voids the copy days later.

The simulation is a queue of actions keyed by time (day number × 1440 +
local minute); each action emits the events that occur at its key, so the
stream comes out in `occurred_at` order. Same seed, same stream.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from services.demo.calendar import PERIOD_MINUTES, PERIOD_STARTS, Calendar
from services.demo.catalog import path_from
from services.demo.classroom import Classroom
from services.demo.learner import Learner, Outcome
from services.demo.recording import Happening, how_entered, recorded_after
from services.demo.roster import Roster, Section

REFLECTS = 0.94  # after a miss, most students reflect before the retake
ACCOMMODATED = 0.08  # students with extended time (factor 1.5) on timed checks
DUPLICATE = 0.004  # a score entered twice, voided later
LEARN = 2.5  # a new objective takes this many times the gap of practice before its first check
# uuid.UUID(int=n, version=4) without its cost: the version and variant bits.
_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_UUID_V4 = (0x4000 << 64) | (0x8000 << 48)


Action = Callable[[float, Any], list[Happening]]


class Simulation:
    def __init__(self, roster: Roster, calendar: Calendar, seed: int, gap: Callable[[int], float]) -> None:
        """`gap(day)`: the mean number of class sessions between a student's
        assessments from that day on (the district's pace)."""
        self.calendar = calendar
        self.rng = random.Random(seed * 7919 + 1)
        self.gap = gap
        self.limit = len(calendar.days) * 1440
        self._heap: list[tuple[float, int, Action, Any]] = []
        self._seq = 0
        self.pending: dict[str, Outcome] = {}  # a miss the student will reflect on
        self.section: dict[str, Section] = {}
        self.testing: set[tuple[str, int]] = set()  # (class, day): the class sits a benchmark
        self.learners: list[Learner] = []
        for section in roster.sections:
            for sid in section.members:
                learner = self.learner(sid, section)
                self.learners.append(learner)
                # The first days run the routine once (the seeds: "Run the procedures one
                # time as practice"): every student takes a first check by day 4.
                self.at(self.key(section, 1 + 3 * self.rng.random()), self._turn, learner)
        self.classroom = Classroom(self)
        self.now = self._heap[0][0] if self._heap else 0.0  # the key of the action under way

    # --- time --------------------------------------------------------------

    def key(self, section: Section, session: float) -> float:
        """Session `session` (day number + the fraction of the period gone) of a section."""
        day = int(session)
        return day * 1440 + PERIOD_STARTS[section.period - 1] + (session - day) * PERIOD_MINUTES

    def session(self, section: Section, key: float) -> float:
        day = int(key // 1440)
        return day + (key - day * 1440 - PERIOD_STARTS[section.period - 1]) / PERIOD_MINUTES

    def session_after(self, section: Section, when: datetime) -> int:
        """The day number of the section's first session at or after `when`."""
        return self.calendar.day_on_or_after(when, PERIOD_STARTS[section.period - 1])

    def _gap(self, day: int, times: float = 1.0) -> float:
        return max(0.15, self.rng.expovariate(1 / (self.gap(day) * times)))

    def at(self, key: float, action: Action, arg: Any) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (key, self._seq, action, arg))

    def event_id(self) -> str:
        """A random (version 4) UUID from the seeded generator, written as uuid.UUID writes it."""
        n = (self.rng.getrandbits(128) & _UUID_CLEAR) | _UUID_V4
        h = f"{n:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    # --- students ----------------------------------------------------------

    def learner(self, sid: str, section: Section) -> Learner:
        self.section[sid] = section
        extra = 1.5 if self.rng.random() < ACCOMMODATED else None
        return Learner(sid, self.rng.gauss(0, 1), extra, path_from(section.course))

    def run(self) -> Iterator[Happening]:
        while self._heap:
            key, _, action, arg = heapq.heappop(self._heap)
            if key >= self.limit:
                return
            self.now = key
            yield from action(key, arg)

    def _turn(self, key: float, learner: Learner) -> list[Happening]:
        if (self.section[learner.student_id].class_id, int(key // 1440)) in self.testing:
            self.at(key + 1440, self._turn, learner)  # the period goes to the benchmark: tomorrow
            return []
        happened, after = self.act(key, learner)
        if after is not None:
            self.at(self.key(self.section[learner.student_id], after), self._turn, learner)
        return happened

    def act(self, key: float, learner: Learner, alone: bool = False) -> tuple[list[Happening], float | None]:
        """The student's next step at `key`, and the session of the one after.
        `alone`: the bench's heavy student, clocked from outside: one event, no side effects."""
        section = self.section[learner.student_id]
        when = self.calendar.when(key)
        here = self.session(section, key)
        day = int(key // 1440)
        missed = self.pending.pop(learner.student_id, None)
        if missed is not None:
            ev = learner.reflection(self.rng, self.event_id(), when.isoformat(), missed)
            happening = Happening(
                ev, recorded_after(self.rng, when, "student"), f"student:{learner.student_id}"
            )
            return [happening], here + self._gap(day)
        outcome = learner.assess(self.rng, self.event_id(), when.isoformat(), self.calendar.days[day])
        how = how_entered(self.rng, outcome.event["evidence"], outcome.objective.kind)
        recorded = recorded_after(self.rng, when, how)
        out = [Happening(outcome.event, recorded, section.teacher.recorded_by)]
        if alone:
            if not outcome.met and self.rng.random() < REFLECTS:
                self.pending[learner.student_id] = outcome
            return out, None
        if self.rng.random() < DUPLICATE:
            out.append(self.classroom.entered_twice(section, learner, outcome.event, recorded))
        oid = outcome.objective.objective_id
        if outcome.done and learner.overridden.get(oid) == "not_mastered":
            self.classroom.clear_later(section, learner, oid, outcome, recorded)
        if outcome.met:
            # Meeting it again, for `n_times` on different days, is another day's work.
            if outcome.done:
                return out, here + self._gap(day, LEARN)
            return out, max(here + self._gap(day), day + 1 + self.rng.random() * 0.8)
        # A miss: the student learns of it when it is entered, then reflects (mostly), then retakes.
        first = self.session_after(section, recorded)
        if self.rng.random() < REFLECTS:
            self.pending[learner.student_id] = outcome
            return out, first + (1 if self.rng.random() < 0.3 else 0) + self.rng.random() * 0.5
        return out, max(here + self._gap(day), first + self.rng.random() * 0.8)
