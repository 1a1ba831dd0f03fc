"""What the learning kinds contain: rows of learning events or of mastery changes, in batches.

Both read the learning events from the event store, not the read models, and
stop at the log position the export started at, so one export is one
consistent cut however long it takes to stream. Each row is joined with the
student's place in the roster and the objective's place in the catalog
(services/export/lookups.py) and carries its score as typed columns
(services/export/scores.py).

* events: every learning event in log order, read from the notification log
  in batches. A reflection's or void's objective is the one the event index
  resolved when it was stored (its target's). A benchmark gives one row per
  result, each with its objective and its correct of total.
* mastery: every status change over time, derived from history. Students come
  from the roster, a page at a time; each student's stream is replayed with
  the same code as the audit trail (`GET /v1/students/{id}/history`), giving
  for every event the status of its objective before and after it, in
  `occurred_at` order. Replays cut at the export's start by `recorded_at`
  (known_at). A `from`/`to` window keeps the rows that occurred in it; their
  status before still counts everything earlier.

Memory stays flat: one batch of events, or one student's stream, at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import orjson
from eventsourcing.utils import get_topic

from domain.ids import learner_stream
from domain.learner import LEARNING_EVENT_CLASSES, Learner
from infra.eventstore import LedgerStore
from infra.keys import Opener, StudentKeys
from services.export.columns import Batch, Row
from services.export.filters import Filters
from services.export.lookups import UNPLACED, Curriculum, Placement, Roster
from services.export.redaction import Redaction
from services.export.scores import NO_SCORE, result_columns, rule_at, score_columns
from services.replay import audit_trail, load_stream

LEARNING_TOPICS = tuple(get_topic(c) for c in LEARNING_EVENT_CLASSES.values())
READ_BATCH = 5000


def _own_objective(ev: Learner.LearningEvent) -> str | None:
    oid = getattr(ev, "objective_id", None)  # attempts, retakes and overrides have one
    return str(oid) if oid is not None else None


def _results(ev: Learner.LearningEvent) -> list[dict[str, Any]]:
    return list(getattr(ev, "results", None) or ()) if ev.record_type == "benchmark" else []


def event_batches(
    store: LedgerStore,
    keys: StudentKeys,
    roster: Roster,
    curriculum: Curriculum,
    cut: int,
    filters: Filters,
    redaction: Redaction | None,
) -> Iterator[Batch]:
    """With `redaction`, no personal data at all; without, opened with each
    student's key (`[erased]` for an erased student)."""
    # The schools' students' streams: the other events are dropped before they are decoded.
    streams = (
        {learner_stream(s) for s in roster.school_students(filters.schools)}
        if filters.schools is not None
        else None
    )
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
            if streams is not None and n.originator_id not in streams:
                continue
            ev = store.mapper.to_domain_event(n)
            assert isinstance(ev, Learner.LearningEvent)
            if filters.occurred(ev.occurred_at):
                events.append((n.id, ev))
        if events:
            yield _event_rows(store, keys, roster, curriculum, events, redaction)
        if len(notes) < READ_BATCH:
            return


def _event_rows(
    store: LedgerStore,
    keys: StudentKeys,
    roster: Roster,
    curriculum: Curriculum,
    events: list[tuple[int, Learner.LearningEvent]],
    redaction: Redaction | None,
) -> Batch:
    inherited = [ev.event_id for _, ev in events if ev.record_type in ("reflection", "void")]
    index = store.indexed.select_index(inherited) if inherited else {}
    objective_of: dict[str, str | None] = {}
    for _, ev in events:
        entry = index.get(ev.event_id)
        objective_of[ev.event_id] = entry.objective_id if entry is not None else _own_objective(ev)
    owners = {ev.student_id for _, ev in events if ev.personal is not None}
    openers: dict[str, Opener] = {}
    if redaction is None and owners:
        found = keys.for_reading(owners)
        openers = {sid: Opener(found.get(sid)) for sid in owners}
    placements = roster.placements({ev.student_id for _, ev in events})
    curriculum.load(
        {oid for oid in objective_of.values() if oid}
        | {str(r["objective_id"]) for _, ev in events for r in _results(ev)}
    )
    rows: Batch = []
    for pos, ev in events:
        payload = {k: v for k, v in ev.payload().items() if v is not None}
        if redaction is not None:
            body = redaction.payload(payload)
        else:
            opener = openers.get(ev.student_id)
            personal = opener.personal(ev.record_type, ev.event_id, ev.personal) if opener else {}
            body = {**payload, **personal}
        common: Row = {
            "position": pos,
            "event_id": ev.event_id,
            "type": ev.record_type,
            "student_id": ev.student_id if redaction is None else redaction.pseudonym(ev.student_id),
            **placements.get(ev.student_id, UNPLACED),
            "occurred_at": ev.occurred_at,
            "recorded_at": ev.timestamp,
            "recorded_by": ev.recorded_by if redaction is None else redaction.recorded_by(ev.recorded_by),
            "payload": orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode(),
        }
        if results := _results(ev):
            # One row per result: each objective's score stands on a row of its own.
            for r in results:
                rid = str(r["objective_id"])
                rows.append({**common, "objective_id": rid, **curriculum.columns(rid), **result_columns(r)})
            continue
        oid = objective_of[ev.event_id]
        score = payload.get("score")
        rule = rule_at(curriculum.versions(oid), ev.occurred_at) if score else None
        rows.append({**common, "objective_id": oid, **curriculum.columns(oid), **score_columns(score, rule)})
    return rows


def mastery_batches(
    store: LedgerStore,
    roster: Roster,
    curriculum: Curriculum,
    filters: Filters,
    redaction: Redaction | None,
) -> Iterator[Batch]:
    rows: Batch = []
    for page in roster.student_pages(filters.schools):
        placements = roster.placements(page)
        for student in page:
            shown = student if redaction is None else redaction.pseudonym(student)
            rows.extend(
                _mastery_rows(store, curriculum, student, shown, placements.get(student, UNPLACED), filters)
            )
            if len(rows) >= READ_BATCH:
                yield rows
                rows = []
    if rows:
        yield rows


def _mastery_rows(
    store: LedgerStore,
    curriculum: Curriculum,
    student: str,
    shown: str,
    placement: Placement,
    filters: Filters,
) -> Iterator[Row]:
    stream = load_stream(store, student)
    objectives = {r.objective_id for r in stream if r.objective_id}
    curriculum.load(objectives)
    versions_of = curriculum.versions_of(objectives)
    known_at: datetime = curriculum.known_at
    before: dict[str, str | None] = {}
    # Status changes hold no personal data: nothing is opened.
    for entry in audit_trail(stream, versions_of, None, known_at, Opener(None)):
        oid: str | None = entry["objective_id"]
        if oid is None:
            continue  # a benchmark or goal: no single objective's status follows it
        prior, after = before.get(oid), entry["status_after"]
        before[oid] = after
        if not filters.occurred(entry["occurred_at"]):
            continue
        score = entry["payload"].get("score")
        rule = rule_at(versions_of.get(oid, ()), entry["occurred_at"]) if score else None
        yield {
            "student_id": shown,
            **placement,
            "objective_id": oid,
            **curriculum.columns(oid),
            "event_id": entry["event_id"],
            "type": entry["type"],
            "occurred_at": entry["occurred_at"],
            "recorded_at": entry["recorded_at"],
            "voided": entry["voided"],
            "status_before": prior,
            "status_after": after,
            "changed": prior != after,
            **(score_columns(score, rule) if score else NO_SCORE),
        }
