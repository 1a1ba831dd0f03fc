"""The scope checks of the student pages (/ui/students/{id} and its audit),
the API's own: a student who does not exist and one outside the caller's
scope are the same 404, with the same words as the API's
(services/query/access.py `visible_student`); a role that reads no student
is the API's 403.

A page checks against the read models (its one connection); the API the
page's script then calls checks the event store as well, so a student the
read models do not hold yet shows the page and then the API's answer.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from infra.readmodels import students
from infra.tokens import Principal
from services.errors import NotFound
from services.http import require_role, scoped_students
from services.query.access import STUDENT_READERS


def visible_student_page(conn: Connection, who: Principal, student_id: str) -> None:
    """Raise the API's ProblemError unless `who` may read this student."""
    require_role(who, *STUDENT_READERS)
    scope = scoped_students(conn, who)
    known = conn.execute(select(students.c.student_id).where(students.c.student_id == student_id)).first()
    if (scope is not None and student_id not in scope) or known is None:
        raise NotFound(f"no student {student_id!r}")
