"""What the event writer (services/ingest/writer.py) checks an event by: its
canonical form and body hash, the earlier events and objectives it names, and
a backfill's recorded times. Pure functions of the event and what the store
answered, so the writer keeps to the order of checking and appending."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson

from domain.rules.model import Rubric
from domain.rules.versions import rule_in_force
from infra.eventstore import IndexRow
from infra.sealing import StudentKey
from services.catalog import ObjectiveView
from services.errors import error
from services.ingest.schemas import (
    AttemptIn,
    BenchmarkIn,
    EventIn,
    OverrideIn,
    ReflectionIn,
    RetakeIn,
    VoidIn,
)


@dataclass(frozen=True)
class Backfill:
    """Events brought in from another system: each keeps the time it was
    recorded there and who recorded it (by event id)."""

    recorded: dict[str, tuple[datetime, str]]

    def problems(self, i: int, event: EventIn, now: datetime) -> list[dict[str, Any]]:
        at, _ = self.recorded[str(event.event_id)]
        loc: list[str | int] = ["body", "events", i, "recorded_at"]
        if at > now:
            return [error(loc, "recorded_at is in the future")]
        if at < event.occurred_at:
            return [error(loc, "recorded_at is before occurred_at: nothing is recorded before it happens")]
        return []


def canonical(event: EventIn) -> tuple[dict[str, Any], bytes]:
    """The event as JSON values (model_dump(mode="json")), and that JSON with
    sorted keys, so the same event sent again hashes alike whatever its key order."""
    dumped: dict[str, Any] = event.__pydantic_serializer__.to_python(event, mode="json")
    return dumped, orjson.dumps(dumped, option=orjson.OPT_SORT_KEYS)


def same_body(stored_hash: str, key: StudentKey | None, canonical: bytes) -> bool:
    """Whether an event sent again is the one stored under its id. The hash is
    keyed by the student's key (infra/sealing.py); events stored before
    schema version 2 hold a plain SHA-256, and are still matched by it."""
    if key is not None and stored_hash == key.body_hash(canonical):
        return True
    return stored_hash == hashlib.sha256(canonical).hexdigest()


def reference(event: EventIn) -> tuple[str, UUID] | None:
    """The field naming an earlier event, and that event's id."""
    if isinstance(event, RetakeIn):
        return "retake_of", event.retake_of
    if isinstance(event, ReflectionIn):
        return "on_event", event.on_event
    if isinstance(event, VoidIn):
        return "target_event_id", event.target_event_id
    return None


def objectives_named(event: EventIn) -> list[str]:
    if isinstance(event, (AttemptIn, OverrideIn)):
        return [event.objective_id]
    if isinstance(event, BenchmarkIn):
        return [r.objective_id for r in event.results]
    return []


def check_objectives(
    event: EventIn, objectives: dict[str, ObjectiveView], i: int, errors: list[dict[str, Any]]
) -> str | None:
    if isinstance(event, BenchmarkIn):
        for j, r in enumerate(event.results):
            if r.objective_id not in objectives:
                errors.append(
                    error(
                        ["body", "events", i, "results", j, "objective_id"],
                        f"unknown objective {r.objective_id!r}",
                    )
                )
        return None
    if not isinstance(event, (AttemptIn, OverrideIn)):
        return None
    view = objectives.get(event.objective_id)
    if view is None:
        errors.append(
            error(["body", "events", i, "objective_id"], f"unknown objective {event.objective_id!r}")
        )
        return None
    if isinstance(event, AttemptIn) and event.score.rubric_level is not None:
        loc: list[str | int] = ["body", "events", i, "score", "rubric_level"]
        # The level is read under the rule in force when the event occurred (as
        # its status will be judged and its score exported), not the latest
        # version: a rubric can change its levels from a date on.
        version = rule_in_force(view.versions, event.occurred_at)
        rule = version.rule.threshold if version is not None else None
        if not isinstance(rule, Rubric):
            errors.append(error(loc, "this objective's rule has no rubric levels"))
        elif event.score.rubric_level not in rule.levels:
            errors.append(
                error(
                    loc,
                    f"{event.score.rubric_level!r} is not one of the rule's levels: "
                    + ", ".join(rule.levels),
                )
            )
    return event.objective_id


def check_reference(event: EventIn, field: str, target: IndexRow | None) -> str | None:
    if target is None or target.student_id != event.student_id:
        # Another student's event is treated as unknown: never reveal it exists.
        return f"{field} names no earlier event of this student"
    if isinstance(event, (RetakeIn, ReflectionIn)) and target.record_type not in ("attempt", "retake"):
        return f"{field} must name an attempt or retake, not a {target.record_type}"
    if isinstance(event, RetakeIn) and target.objective_id != event.objective_id:
        return f"{field} names an attempt on another objective ({target.objective_id})"
    return None
