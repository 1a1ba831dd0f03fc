"""What the read-model tests share: tokens that fit each role, reads at a
position, benchmark and other events, and the mastery tables as rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from services.bootstrap import Ledger
from tests.helpers import (
    RULE_9_OF_10,
    new_id,
)

# A scope each role may hold (infra/tokens.py SCOPE_RULES), for tests of what it may not do.
FIT = {
    "teacher": ["class:c1"],
    "student": ["student:s1"],
    "guardian": ["student:s1"],
    "analyst": [],
    "ingest": [],
}


def get_at(c: TestClient, url: str, position: int, **params: Any) -> Any:
    r = c.get(url, params={"min_position": position, **params})
    assert r.status_code == 200, r.text
    assert int(r.headers["X-Projection-Position"]) >= position
    return r.json()


def benchmark(
    student: str, at: str, results: list[tuple[str, int, int]], bid: str = "interim-1"
) -> dict[str, Any]:
    return {
        "event_id": new_id(),
        "type": "benchmark",
        "student_id": student,
        "occurred_at": at,
        "benchmark_id": bid,
        "name": "Interim 1",
        "results": [{"objective_id": o, "correct": c, "total": t} for o, c, t in results],
    }


def event_of(kind: str, student: str, at: str, **fields: Any) -> dict[str, Any]:
    return {"event_id": new_id(), "type": kind, "student_id": student, "occurred_at": at, **fields}


def row_of(mastery: dict[str, Any], oid: str) -> dict[str, Any]:
    row: dict[str, Any] = next(o for o in mastery["objectives"] if o["objective_id"] == oid)
    return row


def mastery_tables(ledger: Ledger) -> dict[str, list[tuple[Any, ...]]]:
    mastery = next(p for p in ledger.runner.projections if p.name == "mastery")
    out = {}
    with ledger.engine.connect() as conn:
        for t in mastery.tables:
            out[t.name] = [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
    return out


def contradictions_at(c: TestClient, pos: int, **params: Any) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = get_at(c, "/v1/contradictions", pos, **params)
    return body


CONTRACT_FIELDS = {
    "student_id",
    "objective_id",
    "kind",
    "mastery_status",
    "benchmark_id",
    "benchmark_percent",
    "detected_at",
}


def days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


def put_objective(c: TestClient, oid: str, seq: int, prereqs: list[str]) -> None:
    body = {
        "statement": f"Objective {oid}",
        "subject": "math",
        "course": "algebra-1",
        "unit": "u1",
        "sequence": seq,
        "prerequisites": prereqs,
        "rule": RULE_9_OF_10,
        "effective_from": "2026-08-01T00:00:00Z",
    }
    assert c.put(f"/v1/objectives/{oid}", json=body).status_code in (200, 201)
