"""The teacher's class tracker, /ui/classes/{class_id} (issue 14 item 2).

The page checks the class with the API's own `visible_class` (a class the
teacher does not teach is the API's 404) and renders the frame; its script
(static/class.js) reads GET /v1/classes/{id}/mastery-map, /next, /groups,
/v1/contradictions?class_id= and, on a click, a student's explain, all with
the session cookie.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.engine import Connection

from infra.readmodels import classes, schools
from infra.tokens import Principal
from services.errors import ProblemError
from services.inputs import IdPath
from services.query.classes import CLASS_READERS, visible_class
from services.query.ui.pages import PageDep, refusal, render
from services.query.ui.registry import Link, View, register

router = APIRouter(include_in_schema=False)
MOST_LINKS = 200  # an admin of a large district: the first classes, then the API's list


def class_links(conn: Connection, who: Principal) -> list[Link]:
    """The classes this principal may open, as the API scopes them."""
    q = (
        select(classes.c.class_id, classes.c.name, schools.c.name)
        .select_from(classes.outerjoin(schools, schools.c.school_id == classes.c.school_id))
        .order_by(classes.c.school_id, classes.c.name, classes.c.class_id)
        .limit(MOST_LINKS)
    )
    if who.role == "teacher":
        q = q.where(classes.c.class_id.in_(who.scoped("class")))
    elif who.role == "leader":
        q = q.where(classes.c.school_id.in_(who.scoped("school")))
    return [
        Link(f"/ui/classes/{cid}", name or cid, school or "") for cid, name, school in conn.execute(q).all()
    ]


register(
    View(
        key="class",
        title="Class trackers",
        roles=frozenset(CLASS_READERS),
        links=class_links,
        order=10,
        description="Who has mastered what, small groups with peer tutors, what comes next.",
    )
)


@router.get("/ui/classes/{class_id}", response_class=HTMLResponse)
def class_page(request: Request, class_id: IdPath, page: PageDep) -> Response:
    try:
        visible_class(page.conn, page.who, class_id)
    except ProblemError as e:
        return refusal(request, page, e)
    name = page.conn.execute(select(classes.c.name).where(classes.c.class_id == class_id)).scalar()
    return render(request, "class.html", {"class_id": class_id, "class_name": name or class_id}, who=page.who)
