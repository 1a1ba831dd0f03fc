"""The edge of the write path: an HTTP event (services/ingest/schemas.py)
becomes a learning event's payload and its personal data (domain/learner.py).

The payload is what the rules read; the personal data (free text, by record
type: domain.records.PERSONAL_FIELDS) is sealed under the student's key
before it is stored (services/ingest/writer.py)."""

from __future__ import annotations

from typing import Any

from domain.records import PERSONAL_FIELDS
from services.ingest.schemas import EventIn

_COMMON = {"event_id", "type", "student_id", "occurred_at"}


def translate(event: EventIn) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(payload, personal data or None). Absent optional fields are left out
    (the stored event holds them as null); nested nulls too (a score holds
    only the form it was given in)."""
    # The model's own serializer, called directly: model_dump is a Python
    # wrapper around it that cost ~0.4 us an event.
    payload: dict[str, Any] = event.__pydantic_serializer__.to_python(
        event, mode="json", exclude=_COMMON, exclude_none=True
    )
    personal = {k: payload.pop(k) for k in PERSONAL_FIELDS[event.type] if k in payload}
    return payload, personal or None
