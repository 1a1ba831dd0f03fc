"""The student's own tracker, /ui/students/{student_id} (issue 14 item 3),
for the student and their guardians.

The page checks the student with the API's scope (a student sees only
themself, a guardian only their students; any other id is the API's 404)
and renders the frame; its script (static/student.js) reads the profile,
/mastery, /trajectory, /history and the catalog from /v1 with the session
cookie. A guardian's page lists their students, to switch between them.
Other roles that read the student (teacher, leader, admin, auditor) open
the same page by its address; the home page lists it for the student and
the guardian only.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.engine import Connection

from infra.tokens import Principal
from services.errors import ProblemError
from services.inputs import IdPath
from services.query.access import STUDENT_READERS
from services.query.ui.pages import PageDep, refusal, render
from services.query.ui.registry import Link, View, register
from services.query.ui.scope import visible_student_page

router = APIRouter(include_in_schema=False)


def own_students(who: Principal) -> list[str]:
    """The students a student or guardian token names, in its scope's order."""
    return list(who.scoped("student")) if who.role in ("student", "guardian") else []


def student_links(_conn: Connection, who: Principal) -> list[Link]:
    # By id: a name is a student's record, read (and logged) by the page's script.
    if who.role == "student":
        return [Link(f"/ui/students/{sid}", "My tracker", sid) for sid in own_students(who)]
    return [Link(f"/ui/students/{sid}", f"Tracker of {sid}", "student") for sid in own_students(who)]


register(
    View(
        key="student",
        title="Trackers",
        roles=frozenset(STUDENT_READERS),
        links=student_links,
        order=5,
        description="Objectives unit by unit, growth week by week, the goal, recent evidence.",
    )
)


@router.get("/ui/students/{student_id}", response_class=HTMLResponse)
def student_page(request: Request, student_id: IdPath, page: PageDep) -> Response:
    try:
        visible_student_page(page.conn, page.who, student_id)
    except ProblemError as e:
        return refusal(request, page, e)
    mine = own_students(page.who)
    context = {
        "student_id": student_id,
        # A guardian switches between their students (a student has one).
        "switch": mine if len(mine) > 1 else [],
        # The one write of these pages: a student reflects on their own retakes (as the API allows).
        "can_reflect": page.who.role == "student" and student_id in mine,
    }
    return render(request, "student.html", context, who=page.who)
