"""The status of one objective after each of its records, as the audit history shows it.

The history's `status_after` of an event is, by definition,
`compute_status(objective, versions, <the records that occurred up to it>,
<its occurred_at>).status`. Computed that way it is O(n) per event and O(n²)
over a history: a second for a student with 5,000 events. `StatusTimeline`
takes the records one at a time in occurred order and keeps only what the
status name depends on: the counted evidence as the rule in force judges it
(a running tally per calculation method), the active override and the
effective voids. Adding a piece of evidence costs O(1) (O(k) in C for the
averaging methods, which re-sum the same list `decide` would); a void or a new
rule version in force recounts the objective's evidence once.

Only the status name is kept: the audit trail shows no sentence, flag or score.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import date, datetime

from domain.records import Evidence, LearningRecord, Override, Void
from domain.rules.assessment import threshold_value, verdict_of
from domain.rules.methods import average_value, bkt_step, decaying_value, reaches
from domain.rules.model import Average, Bkt, DecayingAverage, Highest, Latest, NTimes, Rule
from domain.rules.status import StatusName, voided_ids
from domain.rules.versions import RuleVersion, ordered_versions


class _Tally(ABC):
    """What one calculation method's verdict needs of the counted evidence so
    far (at least one piece), fed in occurred order. Each subclass answers as
    `methods.decide` does."""

    @abstractmethod
    def add(self, evidence: Evidence, meets: bool, value: float | None) -> None: ...

    @abstractmethod
    def mastered(self) -> bool: ...


class _Latest(_Tally):
    def __init__(self) -> None:
        self._meets = False

    def add(self, evidence: Evidence, meets: bool, value: float | None) -> None:
        self._meets = meets

    def mastered(self) -> bool:
        return self._meets


class _Highest(_Tally):
    def __init__(self) -> None:
        self._met = False

    def add(self, evidence: Evidence, meets: bool, value: float | None) -> None:
        self._met = self._met or meets

    def mastered(self) -> bool:
        return self._met


class _NTimes(_Tally):
    def __init__(self, calc: NTimes) -> None:
        self._calc = calc
        self._meeting = 0
        self._days: set[date] = set()

    def add(self, evidence: Evidence, meets: bool, value: float | None) -> None:
        if meets:
            # The local date in the classroom's own offset, as `n_times` reads it.
            self._days.add(evidence.meta.occurred_at.date())
            self._meeting += 1

    def mastered(self) -> bool:
        met = len(self._days) if self._calc.distinct_days else self._meeting
        return met >= self._calc.n


class _Averaging(_Tally):
    """Average and decaying average: the values in order, summed as `decide` sums them."""

    def __init__(self, rule: Rule) -> None:
        self._need = threshold_value(rule)
        self._values: list[float] = []

    def add(self, evidence: Evidence, meets: bool, value: float | None) -> None:
        self._values.append(value or 0.0)


class _Average(_Averaging):
    def mastered(self) -> bool:
        return reaches(average_value(self._values), self._need)


class _DecayingAverage(_Averaging):
    def __init__(self, rule: Rule, calc: DecayingAverage) -> None:
        super().__init__(rule)
        self._calc = calc

    def mastered(self) -> bool:
        return reaches(decaying_value(self._values, self._calc), self._need)


class _Bkt(_Tally):
    def __init__(self, calc: Bkt) -> None:
        self._calc = calc
        self._p = calc.prior

    def add(self, evidence: Evidence, meets: bool, value: float | None) -> None:
        self._p = bkt_step(self._p, meets, self._calc)

    def mastered(self) -> bool:
        return reaches(self._p, self._calc.mastery_probability)


def _tally_for(rule: Rule) -> _Tally:
    calc = rule.calculation
    if isinstance(calc, Latest):
        return _Latest()
    if isinstance(calc, Highest):
        return _Highest()
    if isinstance(calc, NTimes):
        return _NTimes(calc)
    if isinstance(calc, Average):
        return _Average(rule)
    if isinstance(calc, DecayingAverage):
        return _DecayingAverage(rule, calc)
    return _Bkt(calc)


class StatusTimeline:
    """One objective's status after each record added, in occurred order.

    `add(r)` returns `compute_status(objective_id, versions, <every record
    added so far, r included>, r.meta.occurred_at).status`. Records must come
    in `meta.order` (occurred_at, then recording order), as the history walks
    them; records of other objectives may be added and count as
    `compute_status` counts them (only their time, and voids, matter).
    """

    def __init__(self, objective_id: str, versions: Sequence[RuleVersion]) -> None:
        self.objective_id = objective_id
        self._versions = ordered_versions(versions)
        # Times only grow, so the version in force only moves forward through
        # `_versions`: `_next` is the first one not yet in force.
        self._rv: RuleVersion | None = self._versions[0] if self._versions else None
        self._next = 1
        self._evidence: list[Evidence] = []
        self._overrides: list[Override] = []
        self._voids: list[Void] = []
        self._voided: set[str] = set()
        self._active: Override | None = None
        self._tally: _Tally | None = _tally_for(self._rv.rule) if self._rv else None
        self._counted = 0
        # Each piece judged once per rule version, however often it is recounted.
        self._verdicts: dict[int, dict[str, tuple[bool, float | None]]] = {}
        self._last: tuple[datetime, int] | None = None

    def add(self, record: LearningRecord) -> StatusName:
        meta = record.meta
        order = (meta.occurred_at, meta.seq)
        if self._last is not None and order < self._last:
            raise ValueError(f"record {meta.event_id} added out of occurred_at order")
        self._last = order
        recount = False
        versions = self._versions
        while self._next < len(versions) and versions[self._next].effective_from <= meta.occurred_at:
            self._rv = versions[self._next]
            self._next += 1
            recount = True
        if isinstance(record, Evidence):
            if record.objective_id == self.objective_id:
                self._evidence.append(record)
                if not recount and self._tally is not None and meta.event_id not in self._voided:
                    self._count(self._tally, record)
        elif isinstance(record, Override):
            if record.objective_id == self.objective_id:
                self._overrides.append(record)
                self._active = self._active_override()
        elif isinstance(record, Void):
            self._voids.append(record)
            voided = voided_ids(self._voids)
            if voided != self._voided:
                # A void, or a void of a void, can take out or restore any earlier piece.
                self._voided = voided
                self._active = self._active_override()
                recount = True
        if recount:
            self._recount()
        return self.status()

    @property
    def rule_version(self) -> RuleVersion | None:
        """The rule version in force at the time of the last record added."""
        return self._rv

    @property
    def voided(self) -> frozenset[str]:
        """Ids voided by the effective voids added so far."""
        return frozenset(self._voided)

    def status(self) -> StatusName:
        if self._active is not None:
            return "mastered" if self._active.status == "mastered" else "in_progress"
        if self._tally is None or not self._counted:
            return "not_started"
        return "mastered" if self._tally.mastered() else "in_progress"

    def _active_override(self) -> Override | None:
        """The latest override not voided, unless it clears."""
        for o in reversed(self._overrides):
            if o.meta.event_id not in self._voided:
                return o if o.status != "cleared" else None
        return None

    def _recount(self) -> None:
        self._counted = 0
        self._tally = _tally_for(self._rv.rule) if self._rv else None
        if self._tally is not None:
            for e in self._evidence:
                if e.meta.event_id not in self._voided:
                    self._count(self._tally, e)

    def _count(self, tally: _Tally, e: Evidence) -> None:
        rv = self._rv
        assert rv is not None
        verdicts = self._verdicts.get(rv.version)
        if verdicts is None:
            verdicts = self._verdicts[rv.version] = {}
        verdict = verdicts.get(e.meta.event_id)
        if verdict is None:
            verdict = verdicts[e.meta.event_id] = verdict_of(e, rv.rule)
        tally.add(e, *verdict)
        self._counted += 1
