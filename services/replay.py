"""Replays a student's stream from the event store: as-of and known-at views,
the audit trail with the status after each event, and `explain`.

Replays read the store itself, not the read models, so an auditor sees what
was recorded, by whom and when, whatever state the projections are in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from domain.ids import learner_stream, profile_stream
from domain.learner import Learner
from domain.records import Benchmark, LearningRecord, Void, percent_text, sole_objective
from domain.rules.benchmark import Contradiction, contradiction, flagged, with_benchmarks
from domain.rules.status import Status, compute_status, visible, voided_ids
from domain.rules.timeline import StatusTimeline
from domain.rules.versions import RuleVersion
from infra.eventstore import LedgerStore
from infra.keys import Opener, StudentKeys
from services.catalog import Catalog
from services.verify import verified_events


class Replayed(NamedTuple):
    """One learning event as the replays use it: its record, the one objective
    it bears on, and what the history shows that the record does not hold.
    The decoded event object itself is not kept: for 5,000 events, holding
    them to the end of a request was a fifth of what the collector scanned.
    (A NamedTuple: as immutable as a frozen dataclass, three times cheaper to build.)"""

    record: LearningRecord
    objective_id: str | None
    record_type: str
    request_id: str
    payload: dict[str, Any]
    personal: str | dict[str, Any] | None  # sealed (infra/sealing.py); opened only to be shown
    migrated_by: str | None


Related = tuple[LearningRecord, dict[str, Any]]  # a record and its personal data, opened


def student_exists(store: LedgerStore, student_id: str) -> bool:
    # A profile stream; or, from a store before schema version 2, a learning stream the profile opened.
    return bool(store.indexed.select_heads([profile_stream(student_id), learner_stream(student_id)]))


def load_stream(store: LedgerStore, student_id: str) -> list[Replayed]:
    """The student's learning events, once the stream's hash chain verifies
    (services/verify.py: StreamBroken otherwise, never altered data)."""
    events = verified_events(store, learner_stream(student_id))
    return replayed(ev for ev in events if isinstance(ev, Learner.LearningEvent))


def replayed(events: Iterable[Learner.LearningEvent]) -> list[Replayed]:
    """A student's learning events in recording order, each with its record and
    the one objective it bears on (None for benchmarks, goals and what bears on them)."""
    out: list[Replayed] = []
    objective_of: dict[str, str] = {}
    for ev in events:
        rec = ev.to_record()
        oid = sole_objective(rec, objective_of)
        if oid:
            objective_of[ev.event_id] = oid
        out.append(
            Replayed(rec, oid, ev.record_type, ev.request_id, ev.payload(), ev.personal, ev.migrated_by)
        )
    return out


def audit_trail(
    stream: Sequence[Replayed],
    versions_of: Mapping[str, Sequence[RuleVersion]],
    as_of: datetime | None,
    known_at: datetime | None,
    opener: Opener,
) -> list[dict[str, Any]]:
    """The history's rows: every event cut by `as_of` and `known_at`, in
    occurred_at order (ties by recording), with the status of its objective
    right after it, judged by the rule in force when it occurred.
    `versions_of` holds each objective's rule versions as known at `known_at`;
    an objective missing from it has no status. The payload is the event's as
    sent, its personal data opened by `opener` (`[erased]` after an erasure)."""
    if as_of is None and known_at is None:
        entries = list(stream)
    else:
        shown_ids = {r.meta.event_id for r in visible([r.record for r in stream], as_of, known_at)}
        entries = [r for r in stream if r.record.meta.event_id in shown_ids]
    voided = voided_ids(r.record for r in entries)
    entries.sort(key=_occurred_order)
    # One running timeline per objective: each event costs O(1), not a
    # compute_status over every earlier record of its objective.
    timelines: dict[str | None, StatusTimeline] = {
        oid: StatusTimeline(oid, versions) for oid, versions in versions_of.items()
    }
    rows = []
    for entry in entries:
        timeline = timelines.get(entry.objective_id)
        rec = entry.record
        meta = rec.meta
        rows.append(
            {
                "event_id": meta.event_id,
                "type": entry.record_type,
                "objective_id": entry.objective_id,
                "occurred_at": meta.occurred_at,
                "recorded_at": meta.recorded_at,
                "recorded_by": meta.recorded_by,
                "migrated_by": entry.migrated_by,
                "request_id": entry.request_id,
                "payload": shown_payload(entry, opener),
                "voided": meta.event_id in voided,
                "status_after": timeline.add(rec) if timeline is not None else None,
            }
        )
    return rows


def shown_payload(entry: Replayed, opener: Opener) -> dict[str, Any]:
    """The payload as it was sent: without the fields it left out, with its
    personal data opened."""
    shown = {k: v for k, v in entry.payload.items() if v is not None}
    shown.update(opener.personal(entry.record_type, entry.record.meta.event_id, entry.personal))
    return shown


def _occurred_order(r: Replayed) -> tuple[datetime, int]:
    return r.record.meta.order


class Replayer:
    def __init__(self, store: LedgerStore, catalog: Catalog, keys: StudentKeys) -> None:
        self.store = store
        self.catalog = catalog
        self.keys = keys

    def opener(self, student_id: str) -> Opener:
        return Opener(self.keys.for_reading([student_id]).get(student_id))

    def statuses(self, student_id: str, as_of: datetime | None, known_at: datetime | None) -> list[Status]:
        stream = load_stream(self.store, student_id)
        seen = {r.meta.event_id for r in visible([r.record for r in stream], as_of, known_at)}
        # Each objective gets only the records that bear on it, not the whole stream.
        by_objective: dict[str, list[LearningRecord]] = {}
        # Benchmarks (several objectives each) and the voids that bear on no
        # objective go with every objective they may touch, as in the projection.
        side: list[LearningRecord] = []
        for r in stream:
            if r.record.meta.event_id not in seen:
                continue
            if r.objective_id:
                by_objective.setdefault(r.objective_id, []).append(r.record)
            elif isinstance(r.record, (Benchmark, Void)):
                side.append(r.record)
                for res in r.record.results if isinstance(r.record, Benchmark) else ():
                    by_objective.setdefault(res.objective_id, [])
        views = self.catalog.get_many(by_objective)
        at = as_of or datetime.now(UTC)
        out = []
        for oid in sorted(by_objective):
            if oid in views:
                versions = views[oid].versions_known_at(known_at)
                status = compute_status(oid, versions, by_objective[oid], at)
                out.append(with_benchmarks(status, versions, [*by_objective[oid], *side]))
        return out

    def explain(
        self, student_id: str, objective_id: str, as_of: datetime | None, known_at: datetime | None
    ) -> tuple[Status, dict[str, Any] | None, list[Related], dict[str, Any] | None]:
        """The status with the rule used, the records on the objective each
        with its personal data opened, and the benchmark behind a
        `benchmark_disagrees` flag (None without one)."""
        stream = load_stream(self.store, student_id)
        recs = visible([r.record for r in stream], as_of, known_at)
        view = self.catalog.get(objective_id)
        versions = view.versions_known_at(known_at) if view else ()
        status = compute_status(objective_id, versions, recs, as_of or datetime.now(UTC), with_lines=True)
        found = contradiction(status, versions, recs)
        status = flagged(status, found)
        rule = None
        if status.rule_version is not None:
            rv = next(v for v in versions if v.version == status.rule_version)
            rule = {
                "version": rv.version,
                "effective_from": rv.effective_from,
                "rule": rv.rule.model_dump(mode="json"),
            }
        ids = {r.meta.event_id for r in recs}
        opener = self.opener(student_id)
        related = [
            (r.record, opener.personal(r.record_type, r.record.meta.event_id, r.personal))
            for r in stream
            if r.objective_id == objective_id and r.record.meta.event_id in ids
        ]
        return status, rule, related, _benchmark_behind(found, recs)

    def history(
        self,
        student_id: str,
        as_of: datetime | None,
        known_at: datetime | None,
        opener: Opener | None = None,
    ) -> list[dict[str, Any]]:
        """Every learning event in occurred_at order, with the status of its
        objective right after it (computed from what occurred up to it).
        `opener`: how personal data is shown (default: opened with the student's key)."""
        stream = load_stream(self.store, student_id)
        views = self.catalog.get_many({r.objective_id for r in stream if r.objective_id})
        versions_of = {oid: view.versions_known_at(known_at) for oid, view in views.items()}
        return audit_trail(stream, versions_of, as_of, known_at, opener or self.opener(student_id))


def _benchmark_behind(
    found: Contradiction | None, records: Sequence[LearningRecord]
) -> dict[str, Any] | None:
    """The benchmark a standing contradiction comes from, as explain shows it:
    which test, when, and what the student scored on this objective's items."""
    if found is None:
        return None
    taken = found.benchmark
    name = next(
        (r.name for r in records if isinstance(r, Benchmark) and r.meta.event_id == taken.event_id), ""
    )
    percent = round(taken.percent, 1)
    side = "below the threshold" if found.kind == "benchmark_below_mastery" else "meets the threshold"
    return {
        "kind": found.kind,
        "event_id": taken.event_id,
        "benchmark_id": taken.benchmark_id,
        "name": name,
        "occurred_at": taken.occurred_at,
        "correct": taken.correct,
        "total": taken.total,
        "percent": percent,
        "sentence": f"The benchmark {name or taken.benchmark_id} of {taken.occurred_at.date().isoformat()} "
        f"scored {taken.correct}/{taken.total} ({percent_text(percent)} %) on this objective's items, "
        f"{side}, while the status is {found.mastery_status.replace('_', ' ')}.",
    }
