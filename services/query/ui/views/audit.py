"""The auditor's view of one student, /ui/students/{student_id}/audit
(issue 14 item 5): the timeline (every event, who recorded it, when it was
recorded beside when it happened, voids and overrides marked) and the
statuses as of a moment and, separately, as known at a moment.

The page checks the student with the API's scope and renders the frame; its
script (static/audit.js) reads /v1/students/{id}, /history and /mastery
(with `as_of` and with `known_at`) with the session cookie. The API decides
who reads a history (an auditor or admin any student; a leader or teacher
its own; a student themself), so the page opens for the same principals;
the home page lists it for auditors and admins, with the students whose
records were corrected (voids, overrides) first.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from infra.readmodels import learning_records
from infra.tokens import Principal
from services.errors import ProblemError
from services.inputs import Id, IdPath
from services.query.ui.pages import PageDep, refusal, render
from services.query.ui.registry import Link, View, register
from services.query.ui.scope import visible_student_page

router = APIRouter(include_in_schema=False)
MOST_LINKS = 40
AUDITORS = frozenset({"auditor", "admin"})


def corrected_students(conn: Connection, _who: Principal) -> list[Link]:
    """The students with the most voids and overrides: where an audit starts."""
    lr = learning_records
    n = func.count().label("n")
    rows = conn.execute(
        select(lr.c.student_id, lr.c.record_type, n)
        .where(lr.c.record_type.in_(["void", "override"]))
        .group_by(lr.c.student_id, lr.c.record_type)
    ).all()
    counts: dict[str, dict[str, int]] = {}
    for sid, kind, k in rows:
        counts.setdefault(sid, {})[kind] = int(k)
    # Both kinds of correction first, then the most corrections.
    ranked = sorted(counts.items(), key=lambda kv: (-len(kv[1]), -sum(kv[1].values()), kv[0]))[:MOST_LINKS]

    def detail(c: dict[str, int]) -> str:
        parts = [f"{c[k]} {k}{'s' if c[k] > 1 else ''}" for k in ("void", "override") if k in c]
        return ", ".join(parts)

    return [Link(f"/ui/students/{sid}/audit", f"Audit trail of {sid}", detail(c)) for sid, c in ranked]


register(
    View(
        key="audit",
        title="Audit trails",
        roles=AUDITORS,
        links=corrected_students,
        order=40,
        description="Every event of a student, who recorded it and when, voids and overrides marked; "
        "statuses as of a moment and as known at a moment. "
        "Listed: the students whose records were corrected.",
    )
)


@router.get("/ui/audit", response_class=HTMLResponse)
def open_audit(student_id: Annotated[Id, Query()], page: PageDep) -> Response:
    """The form on the audit page: another student by id (the page then checks the scope)."""
    return RedirectResponse(f"/ui/students/{quote(student_id, safe='')}/audit", status_code=303)


@router.get("/ui/students/{student_id}/audit", response_class=HTMLResponse)
def audit_page(request: Request, student_id: IdPath, page: PageDep) -> Response:
    try:
        visible_student_page(page.conn, page.who, student_id)
    except ProblemError as e:
        return refusal(request, page, e)
    return render(request, "audit.html", {"student_id": student_id}, who=page.who)
