"""One simulated student working through objectives as the seeds describe.

A student takes an objective's short assessment when ready (form A; the
second time around the other form, "a back-up assessment they could use
the 2nd time around"); after a miss they reflect on it, most of the time,
before the retake, and reflecting raises their chance on it. They move on
once the objective's own rule says mastered: for `n_times` that means
meeting it again on another day, for the averages scoring high enough to
lift the mean. Whether a piece meets the threshold is drawn first, from
the student's ability and the objective's difficulty; the score is then
drawn on that side of the threshold, so the rule and the story agree.
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from domain.rules.methods import average_value, decaying_value, reaches
from domain.rules.model import DecayingAverage
from services.demo.catalog import BY_ID, EVIDENCE, FORMS, LEVELS, NEED, Objective

Event = dict[str, Any]

OTHER_FORM = 0.96  # most retakes are on the other form; a few reuse the same one
OVER_TIME = 0.12  # of the misses on a timed objective: right answers, too slow
# Per kind: the scores that meet the threshold and those that miss it, with weights.
SCORES: dict[str, tuple[list[tuple[Any, float]], list[tuple[Any, float]]]] = {
    "F": ([(9, 0.45), (10, 0.55)], [(8, 0.35), (7, 0.3), (6, 0.2), (5, 0.15)]),
    "M": ([(4, 0.55), (5, 0.45)], [(3, 0.55), (2, 0.3), (1, 0.15)]),
    "P": ([(80, 0.35), (90, 0.4), (100, 0.25)], [(70, 0.4), (60, 0.3), (50, 0.2), (40, 0.1)]),
    "R": ([("proficient", 0.7), ("exemplary", 0.3)], [("developing", 0.75), ("emerging", 0.25)]),
}
CAUSES = (
    "sign error",
    "arithmetic slip",
    "misread the question",
    "skipped a step",
    "did not check the answer",
)
CRITERIA = ("reasoning", "representation", "precision", "communication")
REFLECTIONS = (
    "I rushed the last problems and did not check my work.",
    "I mixed up the steps; I went back over the worked examples before the retake.",
    "I knew the method but made careless mistakes; next time I will check each answer.",
    "I did not understand the word problems; I met with a peer tutor to go over them.",
    "I need more practice with this; I did the practice set again.",
)
NEED_VALUE = {kind: float(need) for kind, need in NEED.items()}
TOO_SLOW = "I ran out of time; next time I will skip the hard ones and come back to them."
NOTES = ("Worked with a partner before the check.", "Used the formula sheet.", "Took it during advisory.")


_CUMULATIVE: dict[int, tuple[list[Any], list[float]]] = {}


def _pick(rng: random.Random, options: list[tuple[Any, float]]) -> Any:
    table = _CUMULATIVE.get(id(options))
    if table is None:
        values, total, cumulative = [o for o, _ in options], 0.0, []
        for _, w in options:
            total += w
            cumulative.append(total)
        table = _CUMULATIVE[id(options)] = (values, cumulative)
    return rng.choices(table[0], cum_weights=table[1])[0]


def value_of(kind: str, raw: Any) -> float:
    """A score on the 0-1 scale the averaging methods use."""
    if kind == "R":
        return LEVELS.index(raw) / (len(LEVELS) - 1)
    return float(raw) / {"F": 10, "M": 5, "P": 100}[kind]


def _score_body(kind: str, raw: Any) -> dict[str, Any]:
    if kind in ("F", "M"):
        return {"correct": raw, "total": 10 if kind == "F" else 5}
    return {"percent": raw} if kind == "P" else {"rubric_level": raw}


@functools.cache
def difficulty(oid: str) -> float:
    """A fixed difficulty per objective, -0.6 to 0.6, the same in every run."""
    return (sum(ord(c) * (i + 1) for i, c in enumerate(oid)) % 13 - 6) / 10


@dataclass
class Tally:
    """The evidence on one objective, as its rule counts it."""

    values: list[float] = field(default_factory=list)
    met_days: set[date] = field(default_factory=set)
    met_count: int = 0
    latest_met: bool = False

    def add(self, value: float, met: bool, day: date) -> None:
        self.values.append(value)
        self.latest_met = met
        if met:
            self.met_count += 1
            self.met_days.add(day)

    def plus(self, value: float, met: bool, day: date) -> Tally:
        t = Tally(list(self.values), set(self.met_days), self.met_count, self.latest_met)
        t.add(value, met, day)
        return t

    def mastered(self, o: Objective) -> bool:
        if not self.values:
            return False
        if o.method == "latest":
            return self.latest_met
        if o.method == "highest":
            return self.met_count > 0
        if o.method == "n2d":
            return len(self.met_days) >= 2
        value = (
            average_value(self.values)
            if o.method == "avg"
            else decaying_value(self.values, DecayingAverage())
        )
        return reaches(value, NEED_VALUE[o.kind])


@dataclass(frozen=True)
class Outcome:
    """One assessment, for the simulation to record and schedule after."""

    event: Event
    objective: Objective
    met: bool
    over_time: bool
    done: bool  # the objective's rule says mastered after it


@dataclass
class Learner:
    student_id: str
    ability: float
    extra_time: float | None  # an extended-time accommodation (factor), if any
    path: tuple[Objective, ...]
    at: int = 0  # the first objective of `path` not yet known mastered
    focus: Objective | None = None
    detours: list[Objective] = field(default_factory=list)  # asked for by the teacher, first
    tallies: dict[str, Tally] = field(default_factory=dict)
    overridden: dict[str, str] = field(default_factory=dict)  # objective -> standing override
    last: dict[str, tuple[str, str, bool]] = field(default_factory=dict)  # objective -> (id, form, met)
    reflected: bool = False  # on the focus's latest miss
    tries: int = 0  # on the focus

    def mastered(self, oid: str) -> bool:
        """What the store will say, as far as this student's own evidence and overrides go."""
        if oid in self.overridden:
            return self.overridden[oid] == "mastered"
        tally = self.tallies.get(oid)
        return tally is not None and tally.mastered(BY_ID[oid])

    def started(self, oid: str) -> bool:
        return oid in self.tallies or oid in self.overridden

    def _next_focus(self, rng: random.Random) -> Objective:
        while self.detours:
            o = self.detours.pop(0)
            if o.objective_id in self.last or not self.mastered(o.objective_id):
                return o
        while self.at < len(self.path) and self.mastered(self.path[self.at].objective_id):
            self.at += 1
        if self.at < len(self.path):
            return self.path[self.at]
        return rng.choice(self.path)  # everything mastered: spiral review

    def assess(self, rng: random.Random, eid: str, occurred_at: str, day: date) -> Outcome:
        if self.focus is None:
            self.focus, self.tries, self.reflected = self._next_focus(rng), 0, False
        o = self.focus
        oid = o.objective_id
        previous = self.last.get(oid)
        retake = previous is not None and not previous[2]
        logit = 1.2 * self.ability - difficulty(oid) - 0.2 + 0.4 * min(self.tries, 3)
        if retake:
            logit += 1.1 if self.reflected else 0.5
        elif previous is not None:
            logit += 2.0  # showing again what they showed before
        met = rng.random() < 1 / (1 + math.exp(-logit))
        form = FORMS[0]
        if previous is not None:
            other = FORMS[1 - FORMS.index(previous[1])]
            form = previous[1] if retake and rng.random() >= OTHER_FORM else other
        tally = self.tallies.setdefault(oid, Tally())
        raw, over_time = self._raw_score(rng, o, met, tally, day)
        ev: Event = {
            "event_id": eid,
            "student_id": self.student_id,
            "occurred_at": occurred_at,
            "type": "retake" if retake else "attempt",
            "objective_id": oid,
            "form": form,
            "evidence": rng.choice(EVIDENCE[o.kind]),
            "score": _score_body(o.kind, raw),
        }
        if previous is not None and retake:
            ev["retake_of"] = previous[0]
        if o.kind != "R":
            limit = (o.time_limit or 1500) * (self.extra_time or 1.0)
            share = rng.uniform(1.03, 1.3) if over_time else rng.uniform(0.3, 0.92)
            ev["duration_seconds"] = max(60, round(limit * share))
        if self.extra_time and o.time_limit:
            ev["accommodations"] = {"extended_time_factor": self.extra_time}
        if rng.random() < 0.06:
            ev["notes"] = rng.choice(NOTES)
        met = met and not over_time
        tally.add(0.0 if over_time else value_of(o.kind, raw), met, day)
        self.last[oid] = (eid, form, met)
        self.tries += 1
        self.reflected = False
        done = tally.mastered(o)
        if done:
            self.focus = None
        return Outcome(ev, o, met, over_time, done)

    def _raw_score(
        self, rng: random.Random, o: Objective, met: bool, tally: Tally, day: date
    ) -> tuple[Any, bool]:
        meeting, missing = SCORES[o.kind]
        if not met:
            if o.time_limit and rng.random() < OVER_TIME:
                return _pick(rng, meeting), True
            return _pick(rng, missing), False
        raw = _pick(rng, meeting)
        if o.method in ("avg", "decay") and not tally.plus(value_of(o.kind, raw), True, day).mastered(o):
            # Ready means ready: the lowest meeting score that lifts the mean enough, else the best.
            lifting = [s for s, _ in meeting if tally.plus(value_of(o.kind, s), True, day).mastered(o)]
            raw = lifting[0] if lifting else max((s for s, _ in meeting), key=lambda s: value_of(o.kind, s))
        return raw, False

    def reflection(self, rng: random.Random, eid: str, occurred_at: str, on: Outcome) -> Event:
        ev: Event = {
            "event_id": eid,
            "student_id": self.student_id,
            "occurred_at": occurred_at,
            "type": "reflection",
            "on_event": on.event["event_id"],
            "text": TOO_SLOW if on.over_time else rng.choice(REFLECTIONS),
        }
        if not on.over_time:
            ev["error_analysis"] = _error_analysis(rng, on.objective.kind, on.event["score"])
        self.reflected = True
        return ev


def _error_analysis(rng: random.Random, kind: str, score: dict[str, Any]) -> list[dict[str, Any]]:
    """The items missed and why (for a rubric task, the criteria below proficient)."""
    if kind == "R":
        return [{"item": c, "cause": "not yet proficient"} for c in rng.sample(CRITERIA, 2)]
    total = score.get("total", 10)
    wrong = total - score["correct"] if "correct" in score else 10 - score["percent"] // 10
    items = sorted(rng.sample(range(1, total + 1), max(1, min(wrong, 4))))
    return [{"item": i, "cause": rng.choice(CAUSES)} for i in items]
