"""The leader's views (issue 14 item 4): a school, /ui/schools/{school_id},
and the district, /ui/district. The amount of learning (objectives
mastered per student per week) by grade and by class (or school) week by
week, and where benchmarks disagree with recorded mastery.

The pages check the school with the API's own scope (a school outside a
leader's is the API's 404) and render the frame; the script
(static/leader.js) reads /v1/schools/{id}/summary (or /v1/district/summary),
its weekly breakdown (/summary/weekly) and /v1/contradictions with the
session cookie, so small cells are suppressed exactly as the API
suppresses them: the page has no number the API did not give.

Who: the roles that read both the summaries and the contradictions
(admin, auditor, leader); another role is the API's 403.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.engine import Connection

from infra.readmodels import schools
from infra.tokens import Principal
from services.errors import NotFound, ProblemError
from services.http import require_role
from services.inputs import IdPath
from services.query.insights import visible_school
from services.query.ui.pages import PageDep, refusal, render
from services.query.ui.registry import Link, View, register

router = APIRouter(include_in_schema=False)
LEADERS = ("admin", "auditor", "leader")
MOST_LINKS = 200


def school_links(conn: Connection, who: Principal) -> list[Link]:
    q = select(schools.c.school_id, schools.c.name).order_by(schools.c.school_id).limit(MOST_LINKS)
    if who.role == "leader":
        q = q.where(schools.c.school_id.in_(who.scoped("school")))
    return [Link(f"/ui/schools/{sid}", name or sid, sid) for sid, name in conn.execute(q).all()]


def district_links(_conn: Connection, _who: Principal) -> list[Link]:
    return [Link("/ui/district", "The district", "every school, week by week")]


register(
    View(
        key="school",
        title="Schools",
        roles=frozenset(LEADERS),
        links=school_links,
        order=20,
        description="How much learning is happening: by grade and by class, week by week; "
        "where benchmarks disagree. Groups of fewer than 10 students are suppressed.",
    )
)
register(
    View(
        key="district",
        title="District",
        roles=frozenset(LEADERS),
        links=district_links,
        order=30,
        description="The same, by grade and by school across the district.",
    )
)


@router.get("/ui/schools/{school_id}", response_class=HTMLResponse)
def school_page(request: Request, school_id: IdPath, page: PageDep) -> Response:
    try:
        require_role(page.who, *LEADERS)
        if not visible_school(page.conn, page.who, school_id):
            raise NotFound(f"no school {school_id!r}")
    except ProblemError as e:
        return refusal(request, page, e)
    name = page.conn.execute(select(schools.c.name).where(schools.c.school_id == school_id)).scalar()
    context = {"school_id": school_id, "heading": name or school_id, "unit": "class"}
    return render(request, "leader.html", context, who=page.who)


@router.get("/ui/district", response_class=HTMLResponse)
def district_page(request: Request, page: PageDep) -> Response:
    try:
        require_role(page.who, *LEADERS)
    except ProblemError as e:
        return refusal(request, page, e)
    context = {"school_id": "", "heading": "The district", "unit": "school"}
    return render(request, "leader.html", context, who=page.who)
