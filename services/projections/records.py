"""The learning-records read model: one row per learning event, with the
objective it bears on resolved (a reflection or void inherits its target's).

Projections that recompute a status read their evidence from here, and
`record_of_row` (infra/readmodels.py, beside the table) turns a row back
into the same `LearningRecord` the event itself gives, so live, rebuilt and
replayed statuses use one input.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection

from domain.learner import Learner
from domain.records import LearningRecord
from infra.bulk import Condition, fetch_by_keys, insert_ignore, insert_rows
from infra.readmodels import record_of_row


def own_objective(ev: Learner.LearningEvent) -> str | None:
    if isinstance(ev, (Learner.AttemptRecorded, Learner.OverrideRecorded)):  # a retake is an attempt
        return ev.objective_id
    return None


def target_of(ev: Learner.LearningEvent) -> str | None:
    if isinstance(ev, Learner.ReflectionRecorded):
        return ev.on_event
    if isinstance(ev, Learner.EventVoided):
        return ev.target_event_id
    return None


def store_records(
    conn: Connection,
    table: Table,
    events: Sequence[tuple[int, Learner.LearningEvent]],
    *,
    fresh: bool = False,
) -> list[dict[str, Any]]:
    """Insert the rows of a batch (ignoring redeliveries; `fresh`: the table
    cannot hold them yet) and return them."""
    in_batch = {ev.event_id for _, ev in events}
    # References point backwards: targets outside the batch are already stored.
    resolved = objectives_of(
        conn, table, {t for _, ev in events if (t := target_of(ev)) not in in_batch and t}
    )
    rows: list[dict[str, Any]] = []
    for pos, ev in events:
        target = target_of(ev)
        oid = own_objective(ev) if target is None else resolved.get(target)
        resolved[ev.event_id] = oid
        rows.append(
            {
                "event_id": ev.event_id,
                "student_id": ev.student_id,
                "objective_id": oid,
                "record_type": ev.record_type,
                "seq": ev.originator_version,
                "position": pos,
                "occurred_at": ev.occurred_at.isoformat(),
                "recorded_at": ev.timestamp.isoformat(),
                "recorded_by": ev.recorded_by,
                # The payload without personal data: read models hold none.
                "body": ev.payload(),
            }
        )
    (insert_rows if fresh else insert_ignore)(conn, table, rows)
    return rows


def objectives_of(conn: Connection, table: Table, event_ids: Iterable[str]) -> dict[str, str | None]:
    rows = fetch_by_keys(
        conn, table, ["event_id"], ((e,) for e in event_ids), columns=["event_id", "objective_id"]
    )
    return {r["event_id"]: r["objective_id"] for r in rows}


def records_for(
    conn: Connection, t: Table, pairs: Iterable[tuple[str, str]], before: int | None = None
) -> dict[tuple[str, str], list[LearningRecord]]:
    """Every record bearing on each (student, objective) pair; with `before`,
    only those recorded at log positions below it."""
    keys = set(pairs)
    out: dict[tuple[str, str], list[LearningRecord]] = {k: [] for k in sorted(keys)}
    where: list[Condition] = [] if before is None else [("position", "<", before)]
    for row in fetch_by_keys(conn, t, ["student_id", "objective_id"], keys, where):
        out[(row["student_id"], row["objective_id"])].append(record_of_row(row))
    return out


def students_on(conn: Connection, t: Table, objective_ids: Iterable[str]) -> set[tuple[str, str]]:
    q = select(t.c.student_id, t.c.objective_id).where(t.c.objective_id.in_(list(objective_ids))).distinct()
    return {(r.student_id, r.objective_id) for r in conn.execute(q)}
