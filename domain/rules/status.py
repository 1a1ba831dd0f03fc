"""status(rule versions, records, at) -> Status, with the deciding event and a sentence.

The same function serves live projections, rebuilds, as-of replays and
`explain`, so they cannot disagree (DESIGN.md, "Rules are pure functions").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from domain.records import Evidence, LearningRecord, Override, Reflection, Void
from domain.rules.assessment import Assessment, assess
from domain.rules.methods import decide
from domain.rules.model import Highest, Latest, NTimes, Rule
from domain.rules.versions import RuleVersion, rule_in_force

StatusName = Literal["not_started", "in_progress", "mastered"]
StatusSource = Literal["evidence", "override"]  # what decided a status


@dataclass(frozen=True, slots=True)
class EvidenceLine:
    """One piece of evidence as `explain` shows it."""

    event_id: str
    type: str
    occurred_at: datetime
    form: str
    kind: str
    score: str
    meets: bool
    counted: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Status:
    objective_id: str
    status: StatusName
    source: StatusSource | None
    score: float | None
    evidence_count: int
    deciding_event_id: str | None
    mastered_at: datetime | None
    flags: tuple[str, ...]
    sentence: str
    rule_version: int | None
    evidence: tuple[EvidenceLine, ...]


def voided_ids(records: Iterable[LearningRecord]) -> set[str]:
    """Ids of events voided by an effective void.

    A void is effective unless an effective void targets it, so voiding a void
    restores its target, exactly as if neither had been recorded.
    """
    targets: dict[str, list[str]] = {}
    for r in records:
        if isinstance(r, Void):
            targets.setdefault(r.target_event_id, []).append(r.meta.event_id)
    void_of: dict[str, str] = {void_id: target for target, voids in targets.items() for void_id in voids}
    memo: dict[str, bool] = {}

    def effective(void_id: str) -> bool:
        if void_id not in memo:
            memo[void_id] = True  # references only point backwards; this guards cycles anyway
            memo[void_id] = not any(effective(v) for v in targets.get(void_id, ()))
        return memo[void_id]

    return {target for void_id, target in void_of.items() if effective(void_id)}


def visible(
    records: Iterable[LearningRecord],
    as_of: datetime | None = None,
    known_at: datetime | None = None,
) -> list[LearningRecord]:
    """Records that had occurred by `as_of` and had been recorded by `known_at`."""
    return [
        r
        for r in records
        if (as_of is None or r.meta.occurred_at <= as_of)
        and (known_at is None or r.meta.recorded_at <= known_at)
    ]


def _flags(
    counted: Sequence[Evidence],
    all_evidence: dict[str, Evidence],
    reflections: Sequence[Reflection],
    contradicted: bool,
) -> tuple[str, ...]:
    flags: set[str] = set()
    # The earliest reflection on each piece of evidence: one pass, not one per retake.
    # A reflection counts when it occurred at or before the retake, whichever of
    # the two was entered first (an error analysis and its retake in the same period).
    first_reflection: dict[str, datetime] = {}
    for r in reflections:
        seen = first_reflection.get(r.on_event)
        if seen is None or r.meta.occurred_at < seen:
            first_reflection[r.on_event] = r.meta.occurred_at
    for ev in counted:
        if ev.retake_of is None:
            continue
        retaken = all_evidence.get(ev.retake_of)
        if retaken is not None and retaken.form and retaken.form == ev.form:
            flags.add("same_form_retake")
        reflected = first_reflection.get(ev.retake_of)
        if reflected is None or reflected > ev.meta.occurred_at:
            flags.add("reflection_missing")
    if contradicted:
        flags.add("override_contradicted")
    return tuple(sorted(flags))


def compute_status(
    objective_id: str,
    versions: Sequence[RuleVersion],
    records: Iterable[LearningRecord],
    at: datetime,
    *,
    with_lines: bool = False,
    memo: dict[tuple[int, str], Assessment] | None = None,
) -> Status:
    """The status of one objective for one student at time `at`.

    `records` are the student's learning records already cut by as_of and
    known_at (see `visible`); records of other objectives are ignored.
    `at` chooses the rule version in force. `with_lines` adds the per-evidence
    lines `explain` shows. `memo` lets a caller that computes many statuses
    over growing evidence (an audit replay) judge each piece once per rule
    version; an assessment depends on nothing else.
    """
    recs = list(records)
    voided = voided_ids(recs)
    evidence = sorted(
        (r for r in recs if isinstance(r, Evidence) and r.objective_id == objective_id),
        key=lambda r: r.meta.order,
    )
    by_id = {e.meta.event_id: e for e in evidence}
    reflections = [
        r for r in recs if isinstance(r, Reflection) and r.on_event in by_id and r.meta.event_id not in voided
    ]
    overrides = sorted(
        (
            r
            for r in recs
            if isinstance(r, Override) and r.objective_id == objective_id and r.meta.event_id not in voided
        ),
        key=lambda r: r.meta.order,
    )
    active = overrides[-1] if overrides and overrides[-1].status != "cleared" else None
    rv = rule_in_force(versions, at)
    counted = [e for e in evidence if e.meta.event_id not in voided]
    # Each piece is judged once; the verdict and the explain lines share it.
    judged = _judge(evidence, rv, {} if memo is None else memo) if rv else {}
    assessed: list[tuple[Evidence, Assessment]] = (
        [(e, judged[e.meta.event_id]) for e in counted] if rv else []
    )

    contradicted = False
    if active is not None:
        for e, a in assessed:
            if e.meta.order > active.meta.order and a.meets != (active.status == "mastered"):
                contradicted = True

    lines = tuple(_lines(evidence, voided, judged, active)) if with_lines else ()
    flags = _flags(counted, by_id, reflections, contradicted)
    version_no = rv.version if rv else None

    if active is not None:
        mastered = active.status == "mastered"
        return Status(
            objective_id,
            "mastered" if mastered else "in_progress",
            "override",
            # The teacher's decision has no score of its own, and the latest
            # evidence's would read as the score behind it: explain's evidence
            # lines keep each piece's score.
            None,
            len(counted),
            active.meta.event_id,
            active.meta.occurred_at if mastered else None,
            flags,
            f"A teacher override ({active.status.replace('_', ' ')}, "
            f"{active.meta.occurred_at.date().isoformat()}) decides",
            version_no,
            lines,
        )
    if not assessed or rv is None:
        return Status(
            objective_id,
            "not_started",
            None,
            None,
            0,
            None,
            None,
            flags,
            "No counting evidence yet." if rv else "The objective has no rule yet.",
            version_no,
            lines,
        )
    verdict = decide(assessed, rv.rule)
    mastered_at = _mastered_since(assessed, rv.rule, verdict.deciding) if verdict.mastered else None
    return Status(
        objective_id,
        "mastered" if verdict.mastered else "in_progress",
        "evidence",
        verdict.score,
        len(counted),
        verdict.deciding.meta.event_id,
        mastered_at,
        flags,
        ("Mastered. " if verdict.mastered else "Not yet mastered. ") + verdict.sentence,
        version_no,
        lines,
    )


def _judge(
    evidence: Sequence[Evidence], rv: RuleVersion, memo: dict[tuple[int, str], Assessment]
) -> dict[str, Assessment]:
    judged = {}
    for e in evidence:
        key = (rv.version, e.meta.event_id)
        a = memo.get(key)
        if a is None:
            a = memo[key] = assess(e, rv.rule)
        judged[e.meta.event_id] = a
    return judged


def _mastered_since(
    assessed: Sequence[tuple[Evidence, Assessment]], rule: Rule, deciding: Evidence
) -> datetime:
    """When the current unbroken run of 'mastered' began: the evidence from
    which every longer prefix of the evidence also decides 'mastered'."""
    calc = rule.calculation
    if isinstance(calc, (Highest, NTimes)):
        # Monotonic: once met, more evidence never unmeets it; it began at the deciding piece.
        return deciding.meta.occurred_at
    if isinstance(calc, Latest):
        # Mastered from the first piece of the trailing run of pieces that meet it.
        since = assessed[-1][0].meta.occurred_at
        for e, a in reversed(assessed):
            if not a.meets:
                break
            since = e.meta.occurred_at
        return since
    since = assessed[-1][0].meta.occurred_at
    for i in range(len(assessed), 0, -1):
        if not decide(assessed[:i], rule).mastered:
            break
        since = assessed[i - 1][0].meta.occurred_at
    return since


def _lines(
    evidence: Sequence[Evidence],
    voided: set[str],
    judged: dict[str, Assessment],
    active: Override | None,
) -> Iterable[EvidenceLine]:
    for e in evidence:
        eid = e.meta.event_id
        a = judged.get(eid)
        meets = bool(a and a.meets)
        if eid in voided:
            counted, reason = False, "voided; it no longer counts"
        elif a is None:
            counted, reason = False, "the objective has no rule to judge it by"
        elif active is not None:
            counted = True
            reason = f"{a.reason}; superseded by the override of {active.meta.occurred_at.date().isoformat()}"
        else:
            counted, reason = True, a.reason
        yield EvidenceLine(
            eid,
            e.type,
            e.meta.occurred_at,
            e.form,
            e.kind,
            e.score.describe(),
            meets,
            counted,
            reason,
        )
