"""The catalog, read back: objectives with their rule versions.

Every authenticated role may read it: it names no student. The list is in
course order (course, sequence, id), as class maps show it, filtered by
course and unit, in pages (services/query/pages.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel
from sqlalchemy import select, tuple_
from sqlalchemy.engine import Connection

from infra.readmodels import objectives
from services.errors import InvalidInput, NotFound, error
from services.inputs import Id, IdPath
from services.query.pages import DEFAULT_LIMIT, After, Limit, cut
from services.query.schemas import ObjectiveOut
from services.reads import ReadDep, json_response

router = APIRouter(prefix="/v1", tags=["catalog"])
o = objectives
_ORDER = (o.c.course, o.c.sequence, o.c.objective_id)


class ObjectivesOut(BaseModel):
    objectives: list[ObjectiveOut]
    next: str | None  # the `after` of the next page; null on the last


def _objective(row: Any) -> dict[str, Any]:
    """An ObjectiveOut, as the dict its JSON is written from (times as
    datetimes: json_response writes them as pydantic would)."""
    versions = [
        {
            "version": v["version"],
            "effective_from": datetime.fromisoformat(v["effective_from"]),
            "recorded_at": datetime.fromisoformat(v["recorded_at"]),
            "rule": v["rule"],
        }
        for v in row.rule_versions
    ]
    return {
        "objective_id": row.objective_id,
        "statement": row.statement,
        "subject": row.subject,
        "course": row.course,
        "unit": row.unit,
        "sequence": row.sequence,
        "prerequisites": list(row.prerequisites),
        "rule": versions[-1]["rule"],
        "rule_versions": versions,
    }


def _place(conn: Connection, objective_id: str) -> tuple[str, int, str]:
    """Where `after` stands in course order. The cursor is an objective id
    (the `next` of a page); objectives are never deleted, so one that is not
    in the catalog was never a `next`."""
    row = conn.execute(select(*_ORDER).where(o.c.objective_id == objective_id)).first()
    if row is None:
        msg = f"no objective {objective_id!r}: give the `next` of the page before"
        raise InvalidInput(msg, [error(["query", "after"], msg)])
    course, sequence, oid = row
    return course, sequence, oid


@router.get("/objectives", response_model=ObjectivesOut)
def list_objectives(
    read: ReadDep,
    course: Annotated[Id | None, Query(description="only the objectives of this course")] = None,
    unit: Annotated[Id | None, Query(description="only the objectives of this unit")] = None,
    after: After = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Response:
    q = select(o)
    if course is not None:
        q = q.where(o.c.course == course)
    if unit is not None:
        q = q.where(o.c.unit == unit)
    if after is not None:
        q = q.where(tuple_(*_ORDER) > tuple_(*_place(read.conn, after)))
    rows = read.conn.execute(q.order_by(*_ORDER).limit(limit + 1)).all()
    page, nxt = cut(rows, limit, lambda r: str(r.objective_id))
    return json_response({"objectives": [_objective(r) for r in page], "next": nxt}, read.position)


@router.get("/objectives/{objective_id}", response_model=ObjectiveOut)
def get_objective(objective_id: IdPath, read: ReadDep) -> Response:
    row = read.conn.execute(select(o).where(o.c.objective_id == objective_id)).first()
    if row is None:
        raise NotFound(f"no objective {objective_id!r}")
    return json_response(_objective(row), read.position)
