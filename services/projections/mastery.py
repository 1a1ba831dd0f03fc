"""Current mastery per student × objective, with flags and the deciding event.

Owns the learning records it recomputes from, the statuses, the rule clock,
and the benchmark results with the contradictions they raise
(services/projections/contradictions.py): a contradiction is a verdict on a
status, so it is computed with the status, from the same records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import delete, func, select
from sqlalchemy.engine import Connection

from domain.learner import LEARNING_EVENT_CLASSES, Learner
from domain.records import LearningRecord, Void
from domain.rules.benchmark import ContradictionSpan, contradiction, contradiction_history, flagged
from domain.rules.status import Status, compute_status
from infra.bulk import insert_rows, upsert
from infra.readmodels import (
    benchmark_results,
    benchmark_results_table,
    contradictions,
    contradictions_table,
    learning_records,
    mastery_current,
    mastery_table,
    records_table,
    rule_clock,
    rule_clock_table,
    rule_versions,
    rule_versions_table,
)
from infra.readstore import fresh_metadata
from services.projections.base import Notified
from services.projections.contradictions import (
    benchmark_inputs,
    benchmark_records_for,
    store_benchmarks,
    voided_benchmark_pairs,
    write_history,
)
from services.projections.records import records_for, store_records, students_on
from services.projections.rule_versions import (
    RULE_TOPICS,
    load_versions,
    lock_for_recompute,
    note_versions,
    versions_of,
)


def status_row(student_id: str, status: Status, stream_version: int) -> dict[str, Any]:
    return {
        "student_id": student_id,
        "objective_id": status.objective_id,
        "status": status.status,
        "source": status.source,
        "score": status.score,
        "evidence_count": status.evidence_count,
        "deciding_event_id": status.deciding_event_id,
        "mastered_at": status.mastered_at.isoformat() if status.mastered_at else None,
        "flags": list(status.flags),
        "rule_version": status.rule_version,
        "stream_version": stream_version,
    }


class MasteryProjection:
    """A fold of each learning stream's events, in stream order: a status is
    a function of every record of its pair, read back whole, so it is the
    same however the events were batched or from which source they came.
    The records remember the stream version they reflect (`seq`): an event
    at or below the student's highest is a redelivery and changes nothing."""

    topics = frozenset([get_topic(c) for c in LEARNING_EVENT_CLASSES.values()]) | RULE_TOPICS
    # A rebuild applies these first, in log order: every student's fold reads them.
    first = RULE_TOPICS

    def __init__(self, suffix: str = "") -> None:
        self.name = "mastery" + suffix
        if suffix:
            md = fresh_metadata()
            self.records, self.mastery = records_table(md, suffix), mastery_table(md, suffix)
            self.clock = rule_clock_table(md, suffix)
            self.bench = benchmark_results_table(md, suffix)
            self.contradictions = contradictions_table(md, suffix)
            self.rules = rule_versions_table(md, suffix)
        else:
            self.records, self.mastery, self.clock = learning_records, mastery_current, rule_clock
            self.bench, self.contradictions, self.rules = benchmark_results, contradictions, rule_versions
        self.tables = (self.records, self.mastery, self.clock, self.bench, self.contradictions, self.rules)

    def shadow(self, suffix: str) -> MasteryProjection:
        return MasteryProjection(suffix)

    def apply(self, conn: Connection, events: Sequence[Notified]) -> None:
        learning = self._unseen([(p, e) for p, e in events if isinstance(e, Learner.LearningEvent)], conn)
        rows = store_records(conn, self.records, learning)
        pairs = {(r["student_id"], r["objective_id"]) for r in rows if r["objective_id"]}
        pairs |= {(r["student_id"], r["objective_id"]) for r in store_benchmarks(conn, self.bench, learning)}
        # A void of a benchmark (or of such a void) resolves to no objective.
        stray_voids = [
            (row["event_id"], str(row["body"]["target_event_id"]))
            for row in rows
            if row["record_type"] == "void" and row["objective_id"] is None
        ]
        if stray_voids:
            pairs |= voided_benchmark_pairs(conn, self.bench, self.records, stray_voids)
        changed = note_versions(conn, self.rules, self.clock, events)
        if changed:
            # A new rule version: every student with evidence on it follows the change.
            pairs |= students_on(conn, self.records, changed) | students_on(conn, self.bench, changed)
        self.recompute(conn, pairs)

    def _unseen(
        self, learning: list[tuple[int, Learner.LearningEvent]], conn: Connection
    ) -> list[tuple[int, Learner.LearningEvent]]:
        """The events above the stream version each student's records reflect."""
        if not learning:
            return learning
        t = self.records
        students = sorted({ev.student_id for _, ev in learning})
        q = (
            select(t.c.student_id, func.max(t.c.seq))
            .where(t.c.student_id.in_(students))
            .group_by(t.c.student_id)
        )
        seen = {student: int(seq) for student, seq in conn.execute(q)}
        return [(p, ev) for p, ev in learning if ev.originator_version > seen.get(ev.student_id, 0)]

    def load(self, conn: Connection, events: Sequence[Notified]) -> None:
        """A rebuild's bulk path: `events` hold every event of each stream they
        touch (up to the rebuild's head) and these tables hold nothing of those
        students yet, so every pair is computed once, from the events in hand."""
        learning = [(p, e) for p, e in events if isinstance(e, Learner.LearningEvent)]
        rows = store_records(conn, self.records, learning, fresh=True)
        records = _records_by_pair(rows, learning)
        stray = [r for r in rows if r["record_type"] == "void" and r["objective_id"] is None]
        benchmarks = benchmark_inputs(store_benchmarks(conn, self.bench, learning, fresh=True), stray)
        for pair in benchmarks:
            records.setdefault(pair, {})
        load_versions(conn, self.rules, events)
        self._write(conn, {k: list(v.values()) for k, v in records.items()}, benchmarks, fresh_tables=True)

    def due(self, conn: Connection, now: datetime) -> bool:
        return any(datetime.fromisoformat(r.effective_from) <= now for r in conn.execute(select(self.clock)))

    def tick(self, conn: Connection, now: datetime) -> int:
        """Rule versions that have come into force since they were recorded:
        every student with evidence on their objectives follows the change."""
        due = [
            (r.objective_id, r.version)
            for r in conn.execute(select(self.clock))
            if datetime.fromisoformat(r.effective_from) <= now
        ]
        if not due:
            return 0
        objective_ids = {oid for oid, _ in due}
        lock_for_recompute(conn, objective_ids)
        students = students_on(conn, self.records, objective_ids)
        self.recompute(conn, students | students_on(conn, self.bench, objective_ids))
        for oid, version in due:
            conn.execute(
                delete(self.clock).where(self.clock.c.objective_id == oid, self.clock.c.version == version)
            )
        return len(due)

    def recompute(self, conn: Connection, pairs: set[tuple[str, str]]) -> None:
        """Write the status of each pair from every record it has."""
        if not pairs:
            return
        records = records_for(conn, self.records, pairs)
        self._write(conn, records, benchmark_records_for(conn, self.bench, self.records, pairs))

    def _write(
        self,
        conn: Connection,
        records: Mapping[tuple[str, str], list[LearningRecord]],
        benchmarks: Mapping[tuple[str, str], list[LearningRecord]],
        *,
        fresh_tables: bool = False,
    ) -> None:
        """Compute and write the status (and contradiction history) of every
        pair in `records`: the pair's learning records, and for pairs with
        benchmarks, those and the student's stray voids (`benchmark_inputs`)."""
        versions = versions_of(conn, self.rules, sorted({oid for _, oid in records}))
        now = datetime.now(UTC)
        out = []
        histories: dict[tuple[str, str], list[ContradictionSpan]] = {}
        for (student, oid), recs in records.items():
            rule_versions = versions.get(oid, ())
            status = compute_status(oid, rule_versions, recs, now)
            side = benchmarks.get((student, oid), [])
            # The student's other voids ride along with its benchmarks; they are
            # not this pair's events, so they do not count in its stream version.
            mine = [*recs, *(r for r in side if not isinstance(r, Void))]
            version = max((r.meta.seq for r in mine), default=0)
            if side:
                both = [*recs, *side]
                status = flagged(status, contradiction(status, rule_versions, both))
                histories[(student, oid)] = contradiction_history(oid, rule_versions, both, status)
            out.append(status_row(student, status, version))
        if fresh_tables:
            insert_rows(conn, self.mastery, out)
        else:
            upsert(conn, self.mastery, out, ["student_id", "objective_id"])
        write_history(conn, self.contradictions, histories, replace=not fresh_tables)


def _records_by_pair(
    rows: Sequence[dict[str, Any]], learning: Sequence[tuple[int, Learner.LearningEvent]]
) -> dict[tuple[str, str], dict[str, LearningRecord]]:
    """The records of stored rows that bear on an objective, by pair and event id."""
    out: dict[tuple[str, str], dict[str, LearningRecord]] = {}
    for row, (_pos, ev) in zip(rows, learning, strict=True):
        if row["objective_id"]:
            out.setdefault((row["student_id"], row["objective_id"]), {})[ev.event_id] = ev.to_record()
    return out
