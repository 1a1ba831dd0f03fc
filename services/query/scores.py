"""A status's score as a teacher reads it, for the reads that serve it from the read models."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select

from domain.rules.assessment import score_text
from infra.readmodels import objectives

Levels = dict[tuple[str, int | None], list[str]]
_CHUNK = 400


def rubric_levels(conn: Connection, objective_ids: Iterable[str]) -> Levels:
    """The rubric levels of each (objective, rule version) whose threshold is a
    rubric, from the catalog's read model: a score reads as a level's name."""
    out: Levels = {}
    ids = sorted(set(objective_ids))
    for i in range(0, len(ids), _CHUNK):
        q = select(objectives.c.objective_id, objectives.c.rule_versions)
        for oid, versions in conn.execute(q.where(objectives.c.objective_id.in_(ids[i : i + _CHUNK]))):
            for v in versions:
                if (found := levels_of(v["rule"])) is not None:
                    out[(oid, v["version"])] = found
    return out


def levels_of(rule: dict[str, Any]) -> list[str] | None:
    """A rule's rubric levels (as stored, JSON), None for other thresholds."""
    threshold = rule["threshold"]
    return list(threshold["levels"]) if threshold.get("kind") == "rubric" else None


def display(score: float | None, levels: Levels, objective_id: str, rule_version: int | None) -> str | None:
    """`score_display`: see score_text; the levels of the rule version that decided."""
    return score_text(score, levels.get((objective_id, rule_version)))
