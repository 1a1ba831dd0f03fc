"""What a class does together, and what its teacher decides: goals, the
district's interim benchmarks and the answers to what they show, overrides
for students who arrive with objectives mastered elsewhere, and voids of
scores entered twice.

Interim benchmarks (the seeds: "Do not feel like you have to throw away
traditional unit or benchmark assessments") come three times a year, each
class on one day of a five-day window, four items on each objective of the
units the district's pacing guide has reached. A student scores at the
objective's threshold on what they have mastered and below it elsewhere,
but for a few exceptions each way (the skill slipped; they know it without
having shown it): the contradictions worth a teacher's attention. The
teacher answers some of them the morning after the results arrive.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from services.demo.catalog import BY_COURSE, BY_ID, COURSE_IDS, NEED, Objective
from services.demo.learner import Event, Learner, Outcome
from services.demo.recording import SYNC_RECORDER, Happening, recorded_after
from services.demo.roster import COURSE_NAMES, Section

if TYPE_CHECKING:
    from services.demo.simulation import Simulation

ITEMS = 4  # benchmark items on each objective
# (window, the school day of the year it opens, the units it covers)
INTERIMS = (("fall", 28, (1, 2)), ("winter", 96, (3, 4)), ("spring", 150, (4, 5)))
SLIPPED = 0.03  # mastered, yet below the threshold on the benchmark
KNOWS_IT = 0.08  # working on it, yet at the threshold
KNOWS_AHEAD = 0.02  # not started, yet at the threshold (three times that for the strongest)
ABSENT = 0.04
USES_GOALS = 0.6  # sections whose teacher has students set goals
TRANSFERS = 0.02  # students arriving with objectives mastered elsewhere
TRANSFER_REASON = "Mastered at their previous school; its records reviewed in a conference"

# The fewest of ITEMS right that meet each kind's threshold.
_NEED_ITEMS = {kind: math.ceil(need * ITEMS) for kind, need in NEED.items()}
Override = tuple[Section, Learner, str, str, str]  # section, learner, objective, status, reason


class Classroom:
    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.goals: dict[str, int] = {}
        classes: dict[str, list[Learner]] = {}
        for learner in sim.learners:
            classes.setdefault(sim.section[learner.student_id].class_id, []).append(learner)
        cal, rng = sim.calendar, sim.rng
        for n, learners in enumerate(classes.values()):
            section = sim.section[learners[0].student_id]
            goals = rng.random() < USES_GOALS
            for year in range(cal.years):
                start, end = cal.year_starts[year], cal.year_end(year)
                for window, opens, units in INTERIMS:
                    day = start + opens + n % 5
                    if day < end:
                        sim.testing.add((section.class_id, day))
                        bench = (section, learners, year, window, units)
                        sim.at(sim.key(section, day + 0.9), self._benchmark, bench)
                for learner in learners if goals else []:
                    if rng.random() < 0.9:
                        when = sim.key(section, start + rng.randint(8, 12) + rng.random())
                        sim.at(when, self._goal, (section, learner, year, False))
            for learner in learners:
                if rng.random() < TRANSFERS:
                    for o in learner.path[:2]:
                        arg = (section, learner, o.objective_id, "mastered", TRANSFER_REASON)
                        sim.at(sim.key(section, rng.random()), self._override, arg)  # on day one

    def _teacher(self, section: Section, learner: Learner, key: float, kind: str, **fields: Any) -> Happening:
        """An event the teacher enters minutes after it occurs."""
        when = self.sim.calendar.when(key)
        ev = {
            "event_id": self.sim.event_id(),
            "student_id": learner.student_id,
            "occurred_at": when.isoformat(),
            "type": kind,
            **fields,
        }
        return Happening(ev, recorded_after(self.sim.rng, when, "teacher_now"), section.teacher.recorded_by)

    def _later(self, section: Section, after: datetime, days: tuple[int, int]) -> float:
        """A time in one of the section's sessions, `days` school days after `after` at the earliest."""
        rng = self.sim.rng
        day = self.sim.session_after(section, after) + rng.randint(*days)
        return self.sim.key(section, day + rng.random())

    def _goal(self, key: float, arg: tuple[Section, Learner, int, bool]) -> list[Happening]:
        section, learner, year, revision = arg
        cal, rng = self.sim.calendar, self.sim.rng
        size = len(BY_COURSE[COURSE_IDS.index(section.course)])
        if revision:
            target = self.goals[learner.student_id] + rng.choice((-3, -2, 2, 3, 4))
        else:
            target = round(size * (0.65 + 0.12 * learner.ability) + rng.gauss(0, 2))
        target = max(4, min(size, target))
        self.goals[learner.student_id] = target
        due = cal.days[cal.year_end(year) - 1].isoformat()  # the last day of school
        return [self._teacher(section, learner, key, "goal", target_mastered=target, due=due)]

    def _benchmark(
        self, key: float, arg: tuple[Section, list[Learner], int, str, tuple[int, ...]]
    ) -> list[Happening]:
        section, learners, year, window, units = arg
        sim, rng = self.sim, self.sim.rng
        when = sim.calendar.when(key)
        covered = [o for o in BY_COURSE[COURSE_IDS.index(section.course)] if o.unit in units]
        first = sim.calendar.first_year + year
        title = f"{COURSE_NAMES[section.course]} {window} interim {first}-{(first + 1) % 100:02d}"
        synced = recorded_after(rng, when, "sync")
        out: list[Happening] = []
        for learner in learners:
            if rng.random() < ABSENT:
                continue
            results = [self._result(learner, o) for o in covered]
            ev = {
                "event_id": sim.event_id(),
                "student_id": learner.student_id,
                "occurred_at": when.isoformat(),
                "type": "benchmark",
                "benchmark_id": f"{section.course}-{window}-interim-{first}",
                "name": title,
                "results": results,
            }
            out.append(Happening(ev, synced + timedelta(seconds=rng.randint(0, 59)), SYNC_RECORDER))
            self._answer(section, learner, covered, results, synced)
            if window == "winter" and learner.student_id in self.goals and rng.random() < 0.3:
                sim.at(self._later(section, synced, (1, 5)), self._goal, (section, learner, year, True))
        return out

    def _result(self, learner: Learner, o: Objective) -> dict[str, Any]:
        rng = self.sim.rng
        if learner.mastered(o.objective_id):
            meets = rng.random() >= SLIPPED
        elif learner.started(o.objective_id):
            meets = rng.random() < KNOWS_IT
        else:
            meets = rng.random() < KNOWS_AHEAD * (3 if learner.ability > 1 else 1)
        need = _NEED_ITEMS[o.kind]
        correct = rng.randint(need, ITEMS) if meets else rng.randint(max(0, need - 3), need - 1)
        return {"objective_id": o.objective_id, "correct": correct, "total": ITEMS}

    def _answer(
        self,
        section: Section,
        learner: Learner,
        covered: list[Objective],
        results: list[dict[str, Any]],
        synced: datetime,
    ) -> None:
        """For some who slipped, a re-demonstration, or an override to not mastered
        until they show it again; for some who know an objective they have not
        started, a chance to test out. The rest stand, for the contradiction list."""
        rng = self.sim.rng
        for o, r in zip(covered, results, strict=True):
            meets = Fraction(r["correct"], r["total"]) >= o.need
            mastered = learner.mastered(o.objective_id)
            if mastered and not meets:
                roll = rng.random()
                if roll < 0.45:
                    learner.detours.append(o)
                elif roll < 0.65:
                    reason = (
                        f"{r['correct']} of {r['total']} on the interim: back to practice until shown again"
                    )
                    arg = (section, learner, o.objective_id, "not_mastered", reason)
                    self.sim.at(self._later(section, synced, (0, 2)), self._override, arg)
            elif not mastered and meets and not learner.started(o.objective_id) and rng.random() < 0.3:
                learner.detours.append(o)

    def _override(self, key: float, arg: Override) -> list[Happening]:
        section, learner, oid, status, reason = arg
        if status == "cleared":
            learner.overridden.pop(oid, None)
        else:
            learner.overridden[oid] = status
            if status == "not_mastered":
                learner.detours.append(BY_ID[oid])
        return [
            self._teacher(section, learner, key, "override", objective_id=oid, status=status, reason=reason)
        ]

    def clear_later(
        self, section: Section, learner: Learner, oid: str, outcome: Outcome, recorded: datetime
    ) -> None:
        """The student showed it again: the teacher clears the override once the score is in."""
        learner.overridden[oid] = "clearing"
        reason = f"Shown again on form {outcome.event['form']}: the evidence decides"
        arg = (section, learner, oid, "cleared", reason)
        self.sim.at(self._later(section, recorded, (0, 2)), self._override, arg)

    def entered_twice(self, section: Section, learner: Learner, ev: Event, recorded: datetime) -> Happening:
        """The same score entered again by mistake, voided a few school days later."""
        copy = {**ev, "event_id": self.sim.event_id()}
        twice = Happening(
            copy, recorded_after(self.sim.rng, recorded, "minutes"), section.teacher.recorded_by
        )
        self.sim.at(self._later(section, twice.recorded_at, (1, 4)), self._void, (section, learner, copy))
        return twice

    def _void(self, key: float, arg: tuple[Section, Learner, Event]) -> list[Happening]:
        section, learner, copy = arg
        reason = "Entered twice; this copy does not count"
        return [self._teacher(section, learner, key, "void", target_event_id=copy["event_id"], reason=reason)]
