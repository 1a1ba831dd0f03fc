"""The read endpoints of CONTRACT.md §2 that issue #3 and #4 cover."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import select

from domain.records import Override, Reflection
from domain.rules.assessment import score_text
from domain.rules.status import Status
from infra.readmodels import mastery_current
from services.errors import NotFound
from services.http import CatalogDep, EventStoreDep, KeysDep
from services.inputs import IdPath
from services.problems import STREAM_BROKEN_ANSWER
from services.query.access import MomentDep, VisibleStudent
from services.query.schemas import (
    BenchmarkBehindOut,
    EvidenceLineOut,
    ExplainOut,
    HistoryOut,
    MasteryOut,
    RuleUsedOut,
)
from services.query.scores import Levels, display, levels_of, rubric_levels
from services.reads import ReadDep, json_response
from services.replay import Replayer

router = APIRouter(prefix="/v1")


def _summary(items: list[dict[str, Any]]) -> dict[str, int]:
    counts = Counter(i["status"] for i in items)
    return {s: counts[s] for s in ("mastered", "in_progress", "not_started")}


def _status_item(s: Status, levels: Levels) -> dict[str, Any]:
    """An ObjectiveStatusOut, as the dict its JSON is written from."""
    return {
        "objective_id": s.objective_id,
        "status": s.status,
        "source": s.source,
        "score": s.score,
        "score_display": display(s.score, levels, s.objective_id, s.rule_version),
        "evidence_count": s.evidence_count,
        "deciding_event_id": s.deciding_event_id,
        "mastered_at": s.mastered_at,
        "flags": list(s.flags),
    }


_m = mastery_current
_CURRENT = select(
    _m.c.objective_id,
    _m.c.status,
    _m.c.source,
    _m.c.score,
    _m.c.evidence_count,
    _m.c.deciding_event_id,
    _m.c.mastered_at,
    _m.c.flags,
    _m.c.rule_version,
)


@router.get(
    "/students/{student_id}/mastery",
    response_model=MasteryOut,
    tags=["students"],
    responses=STREAM_BROKEN_ANSWER,
)
def get_mastery(
    student_id: VisibleStudent,
    store: EventStoreDep,
    catalog: CatalogDep,
    keys: KeysDep,
    when: MomentDep,
    read: ReadDep,
) -> Response:
    as_of, known_at = when.as_of, when.known_at
    if when.past:
        # A moment in the past: replay the store, cut by both times.
        statuses = Replayer(store, catalog, keys).statuses(student_id, as_of, known_at)
        levels = rubric_levels(read.conn, (s.objective_id for s in statuses))
        items = [_status_item(s, levels) for s in statuses]
    else:
        rows = read.conn.execute(
            _CURRENT.where(_m.c.student_id == student_id).order_by(_m.c.objective_id)
        ).all()
        levels = rubric_levels(read.conn, (r.objective_id for r in rows))
        items = [
            {
                "objective_id": oid,
                "status": status,
                "source": source,
                "score": score,
                "score_display": display(score, levels, oid, version),
                "evidence_count": count,
                "deciding_event_id": deciding,
                "mastered_at": datetime.fromisoformat(mastered_at) if mastered_at else None,
                "flags": flags,
            }
            for oid, status, source, score, count, deciding, mastered_at, flags, version in rows
        ]
    body = {
        "student_id": student_id,
        "as_of": as_of,
        "known_at": known_at,
        "summary": _summary(items),
        "objectives": items,
    }
    return json_response(body, read.position)


@router.get(
    "/students/{student_id}/history",
    response_model=HistoryOut,
    tags=["students"],
    responses=STREAM_BROKEN_ANSWER,
)
def get_history(
    student_id: VisibleStudent,
    store: EventStoreDep,
    catalog: CatalogDep,
    keys: KeysDep,
    read: ReadDep,
    when: MomentDep,
) -> Response:
    as_of, known_at = when.as_of, when.known_at
    rows = Replayer(store, catalog, keys).history(student_id, as_of, known_at)
    # Thousands of rows: written straight to JSON, in HistoryOut's shape.
    doc = {"student_id": student_id, "as_of": as_of, "known_at": known_at, "events": rows}
    return json_response(doc, read.position, HistoryOut)


@router.get(
    "/students/{student_id}/objectives/{objective_id}/explain",
    response_model=ExplainOut,
    tags=["students"],
    responses=STREAM_BROKEN_ANSWER,
)
def get_explain(
    student_id: VisibleStudent,
    objective_id: IdPath,
    store: EventStoreDep,
    catalog: CatalogDep,
    keys: KeysDep,
    when: MomentDep,
) -> ExplainOut:
    as_of, known_at = when.as_of, when.known_at
    if catalog.get(objective_id) is None:
        raise NotFound(f"no objective {objective_id!r}")
    status, rule, related, benchmark = Replayer(store, catalog, keys).explain(
        student_id, objective_id, as_of, known_at
    )
    reflections: dict[str, list[dict[str, object]]] = {}
    for r, personal in related:
        if isinstance(r, Reflection):
            reflections.setdefault(r.on_event, []).append(
                {
                    "event_id": r.meta.event_id,
                    "occurred_at": r.meta.occurred_at,
                    "text": personal.get("text", ""),
                    "error_analysis": personal.get("error_analysis") or [],
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
        score_display=score_text(status.score, levels_of(rule["rule"]) if rule else None),
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
                "occurred_at": r.meta.occurred_at,
                "status": r.status,
                "reason": personal.get("reason", ""),
                "recorded_by": r.meta.recorded_by,
            }
            for r, personal in related
            if isinstance(r, Override)
        ],
        sentence=status.sentence,
        benchmark=BenchmarkBehindOut.model_validate(benchmark) if benchmark else None,
    )
