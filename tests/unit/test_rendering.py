"""`render_json` writes exactly the bytes pydantic writes for the same document
(the history is served through it, not through FastAPI's response model)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from services.query.schemas import HistoryOut
from services.reads import render_json

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
OFFSETS = st.sampled_from(
    [UTC, timezone(timedelta(0)), timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30))]
)
TIMES = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=OFFSETS)


@st.composite
def rows(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "event_id": draw(st.text(max_size=40)),
        "type": draw(st.sampled_from(["attempt", "retake", "void", "benchmark"])),
        "objective_id": draw(st.none() | st.text(max_size=20)),
        "occurred_at": draw(TIMES),
        "recorded_at": draw(TIMES),
        "recorded_by": draw(st.text(max_size=20)),
        "migrated_by": draw(st.none() | st.text(max_size=20)),
        "request_id": draw(st.text(max_size=20)),
        "payload": draw(st.dictionaries(st.text(max_size=12), JSON_VALUES, max_size=6)),
        "voided": draw(st.booleans()),
        "status_after": draw(st.sampled_from([None, "not_started", "in_progress", "mastered"])),
    }


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1), st.none() | TIMES, st.none() | TIMES, st.lists(rows(), max_size=5))
def test_history_bytes_are_pydantics(
    student: str, as_of: datetime | None, known_at: datetime | None, events: list[dict[str, Any]]
) -> None:
    doc = {"student_id": student, "as_of": as_of, "known_at": known_at, "events": events}
    assert render_json(doc, HistoryOut) == HistoryOut.model_validate(doc).model_dump_json().encode()


def test_what_orjson_refuses_goes_through_the_model() -> None:
    at = datetime(2026, 9, 1, 9, 30, tzinfo=UTC)
    row = {
        "event_id": "e1",
        "type": "reflection",
        "objective_id": "o1",
        "occurred_at": at,
        "recorded_at": at,
        "recorded_by": "teacher:t1",
        "migrated_by": None,
        "request_id": "r1",
        "payload": {"error_analysis": [{"item": 10**30}]},
        "voided": False,
        "status_after": "in_progress",
    }
    doc = {"student_id": "s1", "as_of": None, "known_at": None, "events": [row]}
    assert render_json(doc, HistoryOut) == HistoryOut.model_validate(doc).model_dump_json().encode()
    assert b'"item":1000000000000000000000000000000' in render_json(doc, HistoryOut)
