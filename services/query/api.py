"""The read endpoints of CONTRACT.md §2 that issue #3 and #4 cover."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from fastapi import APIRouter, Response
from sqlalchemy import select

from domain.records import Override, Reflection
from domain.rules.status import Status
from services.errors import NotFound
from services.http import LedgerDep, PositionDep, PrincipalDep
from services.projections.catalog import objectives
from services.projections.mastery import mastery_current
from services.query.access import IdPath, MomentDep, VisibleStudent
from services.query.rendering import json_response
from services.query.replay import Replayer
from services.query.schemas import (
    EvidenceLineOut,
    ExplainOut,
    HistoryOut,
    MasteryOut,
    ObjectiveOut,
    ObjectiveStatusOut,
    RuleUsedOut,
    RuleVersionOut,
    SummaryOut,
)

router = APIRouter(prefix="/v1")


def _summary(items: list[ObjectiveStatusOut]) -> SummaryOut:
    counts = Counter(i.status for i in items)
    return SummaryOut(
        mastered=counts["mastered"], in_progress=counts["in_progress"], not_started=counts["not_started"]
    )


def _status_out(s: Status) -> ObjectiveStatusOut:
    return ObjectiveStatusOut(
        objective_id=s.objective_id,
        status=s.status,
        source=s.source,
        score=s.score,
        evidence_count=s.evidence_count,
        deciding_event_id=s.deciding_event_id,
        mastered_at=s.mastered_at,
        flags=list(s.flags),
    )


@router.get("/students/{student_id}/mastery", response_model=MasteryOut, tags=["students"])
def get_mastery(student_id: VisibleStudent, ledger: LedgerDep, when: MomentDep) -> MasteryOut:
    as_of, known_at = when.as_of, when.known_at
    if as_of is not None or known_at is not None:
        # A moment in the past: replay the store, cut by both times.
        statuses = Replayer(ledger.store, ledger.catalog).statuses(student_id, as_of, known_at)
        items = [_status_out(s) for s in statuses]
    else:
        with ledger.engine.connect() as conn:
            rows = conn.execute(
                select(mastery_current)
                .where(mastery_current.c.student_id == student_id)
                .order_by(mastery_current.c.objective_id)
            ).fetchall()
        items = [
            ObjectiveStatusOut(
                objective_id=r.objective_id,
                status=r.status,
                source=r.source,
                score=r.score,
                evidence_count=r.evidence_count,
                deciding_event_id=r.deciding_event_id,
                mastered_at=datetime.fromisoformat(r.mastered_at) if r.mastered_at else None,
                flags=list(r.flags),
            )
            for r in rows
        ]
    return MasteryOut(
        student_id=student_id, as_of=as_of, known_at=known_at, summary=_summary(items), objectives=items
    )


@router.get("/students/{student_id}/history", response_model=HistoryOut, tags=["students"])
def get_history(student_id: VisibleStudent, ledger: LedgerDep, when: MomentDep) -> Response:
    as_of, known_at = when.as_of, when.known_at
    rows = Replayer(ledger.store, ledger.catalog).history(student_id, as_of, known_at)
    # Thousands of rows: written straight to JSON, in HistoryOut's shape (rendering.py).
    doc = {"student_id": student_id, "as_of": as_of, "known_at": known_at, "events": rows}
    return json_response(doc, HistoryOut)


@router.get(
    "/students/{student_id}/objectives/{objective_id}/explain", response_model=ExplainOut, tags=["students"]
)
def get_explain(
    student_id: VisibleStudent, objective_id: IdPath, ledger: LedgerDep, when: MomentDep
) -> ExplainOut:
    as_of, known_at = when.as_of, when.known_at
    if ledger.catalog.get(objective_id) is None:
        raise NotFound(f"no objective {objective_id!r}")
    status, rule, related = Replayer(ledger.store, ledger.catalog).explain(
        student_id, objective_id, as_of, known_at
    )
    reflections: dict[str, list[dict[str, object]]] = {}
    for r in related:
        if isinstance(r, Reflection):
            reflections.setdefault(r.on_event, []).append(
                {
                    "event_id": r.meta.event_id,
                    "occurred_at": r.meta.occurred_at.isoformat(),
                    "text": r.text,
                    "error_analysis": list(r.error_analysis),
                }
            )
    return ExplainOut(
        student_id=student_id,
        objective_id=objective_id,
        as_of=as_of,
        known_at=known_at,
        status=status.status,
        source=status.source,
        score=status.score,
        deciding_event_id=status.deciding_event_id,
        mastered_at=status.mastered_at,
        flags=list(status.flags),
        rule=RuleUsedOut.model_validate(rule) if rule else None,
        evidence=[
            EvidenceLineOut(
                event_id=line.event_id,
                type=line.type,
                occurred_at=line.occurred_at,
                form=line.form,
                evidence=line.kind,
                score=line.score,
                meets_threshold=line.meets,
                counted=line.counted,
                reason=line.reason,
                reflections=reflections.get(line.event_id, []),
            )
            for line in status.evidence
        ],
        overrides=[
            {
                "event_id": r.meta.event_id,
                "occurred_at": r.meta.occurred_at.isoformat(),
                "status": r.status,
                "reason": r.reason,
                "recorded_by": r.meta.recorded_by,
            }
            for r in related
            if isinstance(r, Override)
        ],
        sentence=status.sentence,
    )


def _objective_out(row: object) -> ObjectiveOut:
    versions = [RuleVersionOut.model_validate(v) for v in row.rule_versions]  # type: ignore[attr-defined]
    return ObjectiveOut(
        objective_id=row.objective_id,  # type: ignore[attr-defined]
        statement=row.statement,  # type: ignore[attr-defined]
        subject=row.subject,  # type: ignore[attr-defined]
        course=row.course,  # type: ignore[attr-defined]
        unit=row.unit,  # type: ignore[attr-defined]
        sequence=row.sequence,  # type: ignore[attr-defined]
        prerequisites=list(row.prerequisites),  # type: ignore[attr-defined]
        rule=versions[-1].rule,
        rule_versions=versions,
    )


@router.get("/objectives", response_model=list[ObjectiveOut], tags=["catalog"])
def list_objectives(ledger: LedgerDep, who: PrincipalDep, _pos: PositionDep) -> list[ObjectiveOut]:
    del who  # every authenticated role may read the catalog: it names no student
    with ledger.engine.connect() as conn:
        rows = conn.execute(
            select(objectives).order_by(objectives.c.course, objectives.c.sequence, objectives.c.objective_id)
        )
        return [_objective_out(r) for r in rows]


@router.get("/objectives/{objective_id}", response_model=ObjectiveOut, tags=["catalog"])
def get_objective(
    objective_id: IdPath, ledger: LedgerDep, who: PrincipalDep, _pos: PositionDep
) -> ObjectiveOut:
    del who
    with ledger.engine.connect() as conn:
        row = conn.execute(select(objectives).where(objectives.c.objective_id == objective_id)).first()
    if row is None:
        raise NotFound(f"no objective {objective_id!r}")
    return _objective_out(row)
