"""What the export tests share: a small district with every kind of event
and personal text, an export read whole, NDJSON as rows, and synthetic
batches for the memory test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from services.export import formats
from tests.helpers import attempt, new_id, post, seed_roster

SECRET_TEXT = "I dropped the negative sign"


NOTE_TEXT = "Jamie cried during the quiz"


REASON_TEXT = "Ms Rivera saw Jamie solve it at the board"


def seed_district(c: TestClient) -> dict[str, Any]:
    """Two students, two objectives, every kind of learning event."""
    seed_roster(
        c,
        students=("s1", "s2"),
        objectives={
            "o1": {"threshold": {"kind": "percent", "min": 80}},
            "o2": {"threshold": {"kind": "percent", "min": 80}},
        },
    )
    first = attempt(
        correct=6,
        at="2025-09-14T09:30:00-05:00",
        notes=NOTE_TEXT,
        items=[{"item": 1, "correct": True, "comment": "Jamie guessed"}],
    )
    reflection = {
        "event_id": new_id(),
        "type": "reflection",
        "student_id": "s1",
        "occurred_at": "2025-09-15T09:30:00-05:00",
        "on_event": first["event_id"],
        "text": SECRET_TEXT,
        "error_analysis": [{"item": 1, "cause": "sign error"}],
    }
    retake = attempt(
        correct=9, form="B", at="2026-09-16T09:30:00-05:00", type="retake", retake_of=first["event_id"]
    )
    override = {
        "event_id": new_id(),
        "type": "override",
        "student_id": "s2",
        "objective_id": "o2",
        "occurred_at": "2026-10-01T10:00:00Z",
        "status": "mastered",
        "reason": REASON_TEXT,
    }
    bench = {
        "event_id": new_id(),
        "type": "benchmark",
        "student_id": "s2",
        "occurred_at": "2026-10-02T10:00:00Z",
        "benchmark_id": "interim-1",
        "name": "Interim 1",
        "results": [{"objective_id": "o1", "correct": 4, "total": 5}],
    }
    other = attempt(student="s2", objective="o1", correct=3, at="2026-10-03T10:00:00Z")
    void = {
        "event_id": new_id(),
        "type": "void",
        "student_id": "s2",
        "occurred_at": "2026-10-04T10:00:00Z",
        "target_event_id": other["event_id"],
        "reason": "wrong student",
    }
    events = [first, reflection, retake, override, bench, other, void]
    post(c, *events)
    return {
        "events": events,
        "first": first,
        "reflection": reflection,
        "retake": retake,
        "override": override,
        "bench": bench,
        "other": other,
        "void": void,
    }


def export_bytes(c: TestClient, kind: str, fmt: formats.Format, **params: Any) -> bytes:
    headers = params.pop("headers", {})
    r = c.get("/v1/export", params={"kind": kind, "format": fmt, **params}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(formats.MEDIA_TYPES[fmt].split(";")[0])
    assert "attachment" in r.headers["content-disposition"]
    body: bytes = r.content
    return body


def ndjson_rows(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body.splitlines()]


def synthetic_batches(n: int) -> Iterator[list[dict[str, Any]]]:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    for start in range(0, n, 5000):
        yield [
            {
                "position": i,
                "event_id": f"{i:036d}",
                "type": "attempt",
                "student_id": f"student-{i % 997}",
                "school_id": "sch1",
                "grade": "7",
                "class_ids": [f"c{i % 40}", "c-all"],
                "class_course_ids": [f"crs{i % 4}", None],
                "objective_id": f"o{i % 40}",
                "subject": "math",
                "course": "algebra-1",
                "unit": "u1",
                "occurred_at": t,
                "recorded_at": t,
                "recorded_by": "ingest:sis",
                "correct": 7,
                "total": 10,
                "percent": None,
                "rubric_level": None,
                "score": 0.7,
                "payload": '{"score":{"correct":7,"total":10},"form":"A","evidence":"quiz"}',
            }
            for i in range(start, min(n, start + 5000))
        ]
