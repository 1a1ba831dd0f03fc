"""What an export contains: rows of learning events or of mastery changes, in batches.

Both sources read the event store, not the read models, and stop at the log
position the export started at, so one export is one consistent cut however
long it takes to stream.

* events: every learning event in log order, read from the notification log
  in batches. A reflection's or void's objective is the one the event index
  resolved when it was stored (its target's).
* mastery: every status change over time, derived from history. Students come
  from the log's registrations; each student's stream is replayed with the same
  code as the audit trail (`GET /v1/students/{id}/history`), giving for every
  event the status of its objective before and after it, in `occurred_at`
  order. Replays cut at the export's start by `recorded_at` (known_at).

Memory stays flat: one batch of events, or one student's stream, at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import orjson
from eventsourcing.utils import get_topic

from domain.learner import LEARNING_EVENT_CLASSES, Learner
from domain.profile import StudentProfile
from infra.eventstore import LedgerStore
from infra.keys import Opener, StudentKeys
from services.catalog import Catalog
from services.replay import Replayer

Kind = Literal["int", "str", "ts", "bool"]
Row = dict[str, Any]
Batch = list[Row]

LEARNING_TOPICS = tuple(get_topic(c) for c in LEARNING_EVENT_CLASSES.values())
# Students come from their profiles; from stores before schema version 2, the learning streams they opened.
REGISTERED_TOPICS = (get_topic(StudentProfile.Registered), get_topic(Learner.Registered))
READ_BATCH = 5000

# Payload fields an analyst sees. An allow-list, so a free-text field added to
# an event type later is withheld until someone decides it is safe.
ANALYST_PAYLOAD = frozenset(
    {
        "objective_id",
        "form",
        "evidence",
        "score",
        "duration_seconds",
        "accommodations",
        "items",
        "retake_of",
        "on_event",
        "status",
        "benchmark_id",
        "name",  # a benchmark's name (e.g. "Interim 2"), never a person's
        "results",
        "target_mastered",
        "due",
        "target_event_id",
    }
)


@dataclass(frozen=True)
class Col:
    name: str
    kind: Kind
    nullable: bool = False


EVENT_COLUMNS = (
    Col("position", "int"),
    Col("event_id", "str"),
    Col("type", "str"),
    Col("student_id", "str"),
    Col("objective_id", "str", nullable=True),
    Col("occurred_at", "ts"),
    Col("recorded_at", "ts"),
    Col("recorded_by", "str"),
    Col("payload", "str"),
)

MASTERY_COLUMNS = (
    Col("student_id", "str"),
    Col("objective_id", "str"),
    Col("event_id", "str"),
    Col("type", "str"),
    Col("occurred_at", "ts"),
    Col("recorded_at", "ts"),
    Col("voided", "bool"),
    Col("status_before", "str", nullable=True),
    Col("status_after", "str", nullable=True),
    Col("changed", "bool"),
)


@dataclass(frozen=True)
class Redaction:
    """What an analyst's export hides: real student ids, names and free text."""

    pseudonym: Callable[[str], str]

    def payload(self, body: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in body.items() if k in ANALYST_PAYLOAD}
        if "items" in out and isinstance(out["items"], list):
            # Per-item results keep their item key and numbers; any other text goes.
            out["items"] = [
                {
                    k: v
                    for k, v in item.items()
                    if k == "item" or (isinstance(v, (int, float, bool)) or v is None)
                }
                for item in out["items"]
                if isinstance(item, dict)
            ]
        return out

    @staticmethod
    def recorded_by(who: str) -> str:
        # "teacher:Ms Rivera" names a person: the analyst sees the role only.
        return who.partition(":")[0]


def _own_objective(ev: Learner.LearningEvent) -> str | None:
    oid = getattr(ev, "objective_id", None)  # attempts, retakes and overrides have one
    return str(oid) if oid is not None else None


def event_batches(
    store: LedgerStore, keys: StudentKeys, cut: int, redaction: Redaction | None
) -> Iterator[Batch]:
    """With `redaction`, no personal data at all; without, opened with each
    student's key (`[erased]` for an erased student)."""
    start = 0
    while True:
        notes = store.recorder.select_notifications(
            start, READ_BATCH, stop=cut, topics=LEARNING_TOPICS, inclusive_of_start=False
        )
        if not notes:
            return
        start = notes[-1].id
        events: list[tuple[int, Learner.LearningEvent]] = []
        for n in notes:
            ev = store.mapper.to_domain_event(n)
            assert isinstance(ev, Learner.LearningEvent)
            events.append((n.id, ev))
        inherited = [ev.event_id for _, ev in events if ev.record_type in ("reflection", "void")]
        index = store.indexed.select_index(inherited) if inherited else {}
        owners = {ev.student_id for _, ev in events if ev.personal is not None}
        openers: dict[str, Opener] = {}
        if redaction is None and owners:
            found = keys.for_reading(owners)
            openers = {sid: Opener(found.get(sid)) for sid in owners}
        rows: Batch = []
        for pos, ev in events:
            entry = index.get(ev.event_id)
            oid = entry.objective_id if entry is not None else _own_objective(ev)
            payload = {k: v for k, v in ev.payload().items() if v is not None}
            if redaction is not None:
                body = redaction.payload(payload)
            else:
                opener = openers.get(ev.student_id)
                personal = opener.personal(ev.record_type, ev.event_id, ev.personal) if opener else {}
                body = {**payload, **personal}
            rows.append(
                {
                    "position": pos,
                    "event_id": ev.event_id,
                    "type": ev.record_type,
                    "student_id": ev.student_id if redaction is None else redaction.pseudonym(ev.student_id),
                    "objective_id": oid,
                    "occurred_at": ev.occurred_at,
                    "recorded_at": ev.timestamp,
                    "recorded_by": ev.recorded_by
                    if redaction is None
                    else redaction.recorded_by(ev.recorded_by),
                    "payload": orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode(),
                }
            )
        yield rows
        if len(notes) < READ_BATCH:
            return


def registered_students(store: LedgerStore, cut: int) -> list[str]:
    """Every student registered up to `cut`, sorted (one id per student, not per event)."""
    ids: set[str] = set()
    start = 0
    while notes := store.recorder.select_notifications(
        start, READ_BATCH, stop=cut, topics=REGISTERED_TOPICS, inclusive_of_start=False
    ):
        start = notes[-1].id
        for n in notes:
            ev = store.mapper.to_domain_event(n)
            assert isinstance(ev, (StudentProfile.Registered, Learner.Registered))
            ids.add(ev.student_id)
    return sorted(ids)


def mastery_batches(
    store: LedgerStore,
    catalog: Catalog,
    keys: StudentKeys,
    cut: int,
    known_at: datetime,
    redaction: Redaction | None,
) -> Iterator[Batch]:
    replayer = Replayer(store, catalog, keys)
    rows: Batch = []
    for student in registered_students(store, cut):
        shown = student if redaction is None else redaction.pseudonym(student)
        before: dict[str, str | None] = {}
        # Status changes hold no personal data: nothing is opened.
        for entry in replayer.history(student, None, known_at, Opener(None)):
            oid = entry["objective_id"]
            if oid is None:
                continue  # a benchmark or goal: no single objective's status follows it
            prior, after = before.get(oid), entry["status_after"]
            before[oid] = after
            rows.append(
                {
                    "student_id": shown,
                    "objective_id": oid,
                    "event_id": entry["event_id"],
                    "type": entry["type"],
                    "occurred_at": entry["occurred_at"],
                    "recorded_at": entry["recorded_at"],
                    "voided": entry["voided"],
                    "status_before": prior,
                    "status_after": after,
                    "changed": prior != after,
                }
            )
        if len(rows) >= READ_BATCH:
            yield rows
            rows = []
    if rows:
        yield rows
