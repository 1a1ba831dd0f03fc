"""The mastery projection's copy of every objective's rule versions.

A fold of the objective streams (Objective.Defined is version 1, each
RuleVersionIssued the next), applied in log order with the evidence it
judges, inside the same transaction: a status is computed under the rule
versions of the events applied so far, never under an ad-hoc read of the
event store part-way through a batch. With several workers, the objective's
name is locked (infra/row_locks.py) shared to read and exclusive to write.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import Table, select
from sqlalchemy.engine import Connection

from domain.objective import Objective
from domain.rules.model import Rule
from domain.rules.versions import RuleVersion
from infra.bulk import insert_ignore, upsert
from infra.row_locks import lock_names

RULE_TOPICS = frozenset({get_topic(Objective.Defined), get_topic(Objective.RuleVersionIssued)})
_LOCKS = "objective"


def issued(events: Iterable[tuple[int, object]]) -> list[dict[str, Any]]:
    """The rule-version rows the events issue, in log order."""
    out = []
    for _pos, ev in events:
        if isinstance(ev, Objective.Defined):
            version, rule, recorded_at = 1, ev.rule, ev.timestamp
        elif isinstance(ev, Objective.RuleVersionIssued):
            version, rule, recorded_at = ev.version_no, ev.rule, ev.timestamp
        else:
            continue
        out.append(
            {
                "objective_id": ev.objective_id,
                "version": version,
                "rule": Rule.model_validate(rule).model_dump(mode="json"),
                "effective_from": ev.effective_from.isoformat(),
                "recorded_at": recorded_at.isoformat(),
            }
        )
    return out


def note_versions(
    conn: Connection, table: Table, clock: Table, events: Sequence[tuple[int, object]]
) -> set[str]:
    """Store the rule versions the events issue that are not stored yet, clock
    those that come into force later; return the objectives with a new version
    (every student with evidence on them follows the change)."""
    rows = issued(events)
    if not rows:
        return set()
    objective_ids = sorted({r["objective_id"] for r in rows})
    lock_names(conn, _LOCKS, objective_ids, shared=False)
    q = select(table.c.objective_id, table.c.version).where(table.c.objective_id.in_(objective_ids))
    have = {(oid, int(v)) for oid, v in conn.execute(q)}
    new = [r for r in rows if (r["objective_id"], r["version"]) not in have]
    insert_ignore(conn, table, new)
    now = datetime.now(UTC)
    ahead = [
        {"objective_id": r["objective_id"], "version": r["version"], "effective_from": r["effective_from"]}
        for r in new
        if r["version"] > 1 and datetime.fromisoformat(r["effective_from"]) > now
    ]
    upsert(conn, clock, ahead, ["objective_id", "version"])
    return {r["objective_id"] for r in new}


def load_versions(conn: Connection, table: Table, events: Sequence[tuple[int, object]]) -> None:
    """A rebuild's path: the versions, whether or not a first pass stored them."""
    upsert(conn, table, issued(events), ["objective_id", "version"])


def versions_of(conn: Connection, table: Table, objective_ids: Sequence[str]) -> dict[str, list[RuleVersion]]:
    """Each objective's rule versions in order, under a shared lock on each
    (a worker issuing a version to one of them waits, or is waited for)."""
    lock_names(conn, _LOCKS, objective_ids, shared=True)
    out: dict[str, list[RuleVersion]] = {}
    q = select(table).where(table.c.objective_id.in_(list(objective_ids))).order_by(table.c.version)
    for r in conn.execute(q).mappings():
        out.setdefault(r["objective_id"], []).append(
            RuleVersion(
                int(r["version"]),
                Rule.model_validate(r["rule"]),
                datetime.fromisoformat(r["effective_from"]),
                datetime.fromisoformat(r["recorded_at"]),
            )
        )
    return out


def lock_for_recompute(conn: Connection, objective_ids: Iterable[str]) -> None:
    """Exclusive locks for recomputing every student on these objectives (a
    rule coming into force): no worker writes one of their statuses meanwhile."""
    lock_names(conn, _LOCKS, objective_ids, shared=False)
