"""Which requests read which students' records, and how that reaches the
access log (docs/security.md, "Access records").

A route that reads a student's records says which students it names: the
student of the path before anything is checked (`PathStudent`; a refusal
is an attempt worth recording too), or the students its answer names (a
class map: `names_students`). The service's outermost middleware (services/
middleware.py, `RequestContext`) hands one entry per student to the
recorder as the answer's status goes out (`record_reads`), so no client
holds an answer whose entry is not queued yet, and the entry carries the
status the client got, error handlers' included. A request without a valid
token has no principal and records nothing.

A streamed export names its students as it streams them, after its 200 has
gone out: it records them itself (`recording_for`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from starlette.types import Scope

from infra.access_log import Access, AccessRecorder
from infra.tokens import Principal
from services.http import adapters
from services.inputs import IdPath

log = logging.getLogger(__name__)

_NAMED = "students_read"  # in the request's state: the students its answer names, in order


async def _recorder(request: Request) -> AccessRecorder:
    return adapters(request).access


AccessDep = Annotated[AccessRecorder, Depends(_recorder)]


def names_students(request: Request, students: Iterable[str]) -> None:
    """Record this request, when it is answered, as a read of these students' records."""
    state = request.scope.setdefault("state", {})
    state.setdefault(_NAMED, []).extend(students)


async def _path_student(request: Request, student_id: IdPath) -> str:
    # Declared before the read session, so that whatever follows (a 503 while
    # waiting for min_position, a 403, a 404) is recorded with its status.
    # async: no I/O, no trip to the thread pool.
    names_students(request, [student_id])
    return student_id


# The student of the path, named in the access log before anything else is checked.
PathStudent = Annotated[str, Depends(_path_student)]


def endpoint_of(scope: Scope) -> str:
    """The route template, not the URL: `GET /v1/students/{student_id}/mastery`."""
    return f"{scope['method']} {scope['route'].path}"


def _entries(who: Principal, students: Iterable[str], endpoint: str, status: int) -> Iterator[Access]:
    at = datetime.now(UTC)
    for student in students:
        yield Access(at, who.token_id, who.name, who.role, student, endpoint, status)


def record_reads(scope: Scope, status: int) -> None:
    """Called by the middleware as a response starts. Never raises: a fault
    here is logged, and the answer goes out all the same."""
    state = scope.get("state")
    if not state or not state.get(_NAMED):
        return
    who = state.get("principal")  # set by services/http.py `authenticate`
    if who is None:
        return
    try:
        recorder: AccessRecorder = scope["app"].state.ledger.access
        students = dict.fromkeys(state[_NAMED])  # each once, in the order named
        recorder.record(_entries(who, students, endpoint_of(scope), status))
    except Exception:
        log.exception("could not queue the access-log entries of %s %r", scope["method"], scope["path"])


def recording_for(
    request: Request, who: Principal, recorder: AccessRecorder
) -> Callable[[Iterable[str]], None]:
    """For a streamed answer: record its students as it names them (status 200, sent already)."""
    endpoint = endpoint_of(request.scope)

    def record(students: Iterable[str]) -> None:
        recorder.record(_entries(who, students, endpoint, 200))

    return record
