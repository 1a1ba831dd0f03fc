"""A seeded synthetic district: `mastery demo` serves one, the bench measures one.

Same seed, same district, same events, byte for byte.

Shape: schools of classes of ~25 students; a course of objectives with a mix
of rules (correct-of, percent, rubric; latest, highest, n-times, averages,
BKT). Over two school years each student works through the objectives in
order: attempts, then after a miss a reflection (usually) and a retake on
another form (usually), until the rule is met; now and then a teacher
override, a benchmark test over a unit, a goal, a void of a mistaken entry,
and some late-arriving records (occurred days before they were sent). One
extra student, `heavy`, gets `heavy_events` events, for the audit replay
(the demo has none).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

Event = dict[str, Any]

START = datetime(2024, 8, 26, 8, 0, tzinfo=UTC)
SPAN = timedelta(days=650)  # two school years, ending well before today
FORMS = ("A", "B", "C")
EVIDENCE = ("quiz", "exit_ticket", "oral", "conference", "project", "performance_task", "assignment")
RUBRIC = ["beginning", "developing", "proficient", "exemplary"]
CALCULATIONS: tuple[dict[str, Any], ...] = (
    {"method": "latest"},
    {"method": "latest"},
    {"method": "highest"},
    {"method": "n_times", "n": 2},
    {"method": "average"},
    {"method": "decaying_average"},
    {"method": "bkt"},
)


@dataclass
class _Learner:
    student_id: str
    objective: int = 0
    last_evidence: str | None = None  # the latest attempt/retake on the current objective
    needs_reflection: str | None = None  # a missed attempt not yet reflected on
    events: list[str] = field(default_factory=list)  # a few recent ids, for voids


# Algebra 1, eight objectives a unit, in teaching order.
STATEMENTS = (
    "Evaluate expressions with the order of operations",
    "Combine like terms",
    "Apply the distributive property",
    "Translate words into algebraic expressions",
    "Solve one-step linear equations",
    "Solve two-step linear equations",
    "Solve equations with variables on both sides",
    "Solve literal equations for a given variable",
    "Solve and graph one-variable inequalities",
    "Solve compound inequalities",
    "Solve absolute value equations",
    "Model a situation with an inequality",
    "Identify functions from tables, graphs and mappings",
    "Use function notation",
    "Find domain and range",
    "Interpret key features of a graph",
    "Find the slope from two points",
    "Write a line in slope-intercept form",
    "Write a line in point-slope form",
    "Graph a linear equation",
    "Write parallel and perpendicular lines",
    "Fit a line to data and interpret it",
    "Write and graph linear inequalities in two variables",
    "Interpret slope and intercept in context",
    "Solve systems of equations by graphing",
    "Solve systems of equations by substitution",
    "Solve systems of equations by elimination",
    "Model a situation with a system of equations",
    "Solve systems of linear inequalities",
    "Apply the laws of exponents",
    "Simplify expressions with rational exponents",
    "Model exponential growth and decay",
    "Add and subtract polynomials",
    "Multiply polynomials",
    "Factor out the greatest common factor",
    "Factor trinomials",
    "Factor special products",
    "Solve quadratic equations by factoring",
    "Solve quadratic equations with the quadratic formula",
    "Graph quadratic functions and find the vertex",
)
FIRST = (
    "Ava",
    "Ben",
    "Chloe",
    "Diego",
    "Emma",
    "Farah",
    "Gabe",
    "Hana",
    "Isaac",
    "Jade",
    "Kofi",
    "Lena",
    "Mateo",
    "Nia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tariq",
    "Uma",
    "Vik",
    "Wren",
    "Yusuf",
    "Zoe",
)
LAST = (
    "Adams",
    "Baker",
    "Chen",
    "Diaz",
    "Evans",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Johnson",
    "Kim",
    "Lopez",
    "Mensah",
    "Nguyen",
    "Okafor",
    "Patel",
    "Quist",
    "Rossi",
    "Singh",
    "Tanaka",
    "Usman",
    "Volkov",
)


@dataclass(frozen=True)
class District:
    seed: int
    students: int
    objectives: int = 40
    class_size: int = 25
    classes_per_school: int = 10
    heavy_events: int = 5000
    # When the events occur: the bench's two past school years by default.
    start: datetime = START
    span: timedelta = SPAN

    @property
    def student_ids(self) -> list[str]:
        heavy = ["heavy"] if self.heavy_events else []
        return [f"stu-{i:06d}" for i in range(self.students)] + heavy

    def student_name(self, index: int) -> str:
        rng = random.Random(self.seed * 104729 + index)
        return f"{rng.choice(FIRST)} {rng.choice(LAST)}"

    @property
    def objective_ids(self) -> list[str]:
        return [f"alg1.u{1 + i // 8}.o{1 + i % 8}" for i in range(self.objectives)]

    def classes(self) -> list[tuple[str, str, list[str]]]:
        """(class_id, school_id, student_ids); `heavy` joins the first class."""
        ids = self.student_ids
        out = []
        for c, start in enumerate(range(0, self.students, self.class_size)):
            members = ids[start : start + self.class_size] + (
                ["heavy"] if c == 0 and self.heavy_events else []
            )
            out.append((f"cls-{c:05d}", self.school_of(c), members))
        return out

    def school_of(self, class_index: int) -> str:
        return f"sch-{class_index // self.classes_per_school:03d}"

    def schools(self) -> list[str]:
        return sorted({school for _, school, _ in self.classes()})

    def objective_bodies(self) -> list[tuple[str, dict[str, Any]]]:
        rng = random.Random(self.seed)
        out = []
        for i, oid in enumerate(self.objective_ids):
            kind = i % 5
            threshold: dict[str, Any]
            if kind in (0, 1, 2):
                threshold = {"kind": "correct_of", "min_correct": 8, "of": 10}
            elif kind == 3:
                threshold = {"kind": "percent", "min": 80}
            else:
                threshold = {"kind": "rubric", "levels": RUBRIC, "min_level": "proficient"}
            rule: dict[str, Any] = {"threshold": threshold, "calculation": rng.choice(CALCULATIONS)}
            if i % 7 == 0:
                rule["time_limit_seconds"] = 900
            out.append(
                (
                    oid,
                    {
                        "statement": STATEMENTS[i % len(STATEMENTS)],
                        "subject": "math",
                        "course": "algebra-1",
                        "unit": oid.split(".")[1],
                        "sequence": i,
                        "prerequisites": [self.objective_ids[i - 1]] if i % 8 else [],
                        "rule": rule,
                        "effective_from": (self.start - timedelta(days=30)).isoformat(),
                    },
                )
            )
        return out

    def events(self, total: int, tail: int = 0) -> Iterator[Event]:
        """`total` learning events, roughly in occurred_at order over two school years,
        then `tail` more at the end of the span (for load after the measured log)."""
        rng = random.Random(self.seed * 7919 + 1)
        learners = [_Learner(s) for s in self.student_ids[:-1]]
        heavy = _Learner("heavy")
        heavy_total = min(self.heavy_events, total // 4)
        heavy_every = max(1, total // max(1, heavy_total))
        objectives = self.objective_ids
        rubric = {oid for i, oid in enumerate(objectives) if i % 5 == 4}
        percent = {oid for i, oid in enumerate(objectives) if i % 5 == 3}
        step = self.span / max(total, 1)
        heavy_done = 0
        for n in range(total + tail):
            at = self.start + step * min(n, total)
            if rng.random() < 0.03:
                at -= timedelta(days=rng.randint(1, 6))  # recorded late
            if heavy_done < heavy_total and n % heavy_every == 0:
                who = heavy
                heavy_done += 1
            else:
                who = learners[rng.randrange(len(learners))]
            yield self._next(rng, who, at, objectives, rubric, percent)

    def _next(
        self,
        rng: random.Random,
        who: _Learner,
        at: datetime,
        objectives: list[str],
        rubric: set[str],
        percent: set[str],
    ) -> Event:
        oid = objectives[who.objective % len(objectives)]
        eid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        base: Event = {"event_id": eid, "student_id": who.student_id, "occurred_at": at.isoformat()}
        roll = rng.random()
        ev: Event
        if who.needs_reflection and roll < 0.6:
            ev = {
                **base,
                "type": "reflection",
                "on_event": who.needs_reflection,
                "text": rng.choice(
                    ["I mixed up the signs", "I ran out of time", "I forgot to check my work"]
                ),
                "error_analysis": [{"item": rng.randint(1, 10), "cause": "careless"}],
            }
            who.needs_reflection = None
        elif roll < 0.015:
            ev = {
                **base,
                "type": "override",
                "objective_id": oid,
                "status": rng.choice(["mastered", "not_mastered", "cleared"]),
                "reason": "observed in class",
            }
        elif roll < 0.03:
            unit = rng.randrange(len(objectives) // 8 or 1)
            ev = {
                **base,
                "type": "benchmark",
                "benchmark_id": f"interim-{at.year}-{unit}",
                "name": f"Interim {unit + 1}",
                "results": [
                    {"objective_id": o, "correct": rng.randint(0, 5), "total": 5}
                    for o in objectives[unit * 8 : unit * 8 + 8]
                ],
            }
        elif roll < 0.035:
            due = (self.start + timedelta(days=290)).date().isoformat()  # mid June of that school year
            ev = {**base, "type": "goal", "target_mastered": rng.randint(5, 30), "due": due}
        elif roll < 0.04 and who.events:
            target = who.events.pop(rng.randrange(len(who.events)))
            ev = {
                **base,
                "type": "void",
                "target_event_id": target,
                "reason": "entered for the wrong student",
            }
            if target in (who.last_evidence, who.needs_reflection):
                who.last_evidence = who.needs_reflection = None
        else:
            hit = rng.random() < 0.55
            if oid in rubric:
                score: dict[str, Any] = {
                    "rubric_level": RUBRIC[rng.randint(2, 3) if hit else rng.randint(0, 1)]
                }
            elif oid in percent:
                score = {"percent": rng.randint(80, 100) if hit else rng.randint(20, 79)}
            else:
                score = {"correct": rng.randint(8, 10) if hit else rng.randint(2, 7), "total": 10}
            ev = {
                **base,
                "type": "attempt",
                "objective_id": oid,
                "form": rng.choice(FORMS),
                "evidence": rng.choice(EVIDENCE),
                "score": score,
                "duration_seconds": rng.randint(120, 1200),
            }
            if who.last_evidence:
                ev["type"] = "retake"
                ev["retake_of"] = who.last_evidence
            if rng.random() < 0.1:
                ev["notes"] = "worked with a partner"
            if hit:
                who.objective += 1
                who.last_evidence = who.needs_reflection = None
            else:
                who.last_evidence = who.needs_reflection = eid
            who.events = [*who.events[-4:], eid]
        return ev


def batches(events: Iterator[Event], size: int) -> Iterator[list[Event]]:
    batch: list[Event] = []
    for ev in events:
        batch.append(ev)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
