"""HTTP plumbing shared by the services: their adapters, authentication and
scope. The read session (position, waiting, one connection) is in
services/reads.py; errors are in services/problems.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Protocol

from fastapi import Depends, Request
from sqlalchemy import Engine, Executable, select, union
from sqlalchemy.engine import Connection
from starlette.exceptions import HTTPException as StarletteHTTPException

from infra.access_log import AccessRecorder
from infra.eventstore import LedgerStore
from infra.keys import StudentKeys
from infra.readmodels import classes, enrolments, students
from infra.tokens import Principal, TokenStore
from services.catalog import Catalog
from services.errors import Forbidden
from services.session import SESSION_COOKIE, session_principal


class Adapters(Protocol):
    """What the shared plumbing and the routes take from the process's
    composition root (services.bootstrap.Ledger, in `app.state.ledger`).
    Neither may import it: it imports every service, and no service may
    import another (pyproject.toml's independence contract). services/app.py
    holds the Ledger to this protocol."""

    store: LedgerStore
    catalog: Catalog
    tokens: TokenStore
    engine: Engine  # the read models, read and written
    reader: Engine  # what requests read through (ReadDep)
    trust: Engine  # the trust store: keys, secrets, tokens, access log (infra/trust.py)
    keys: StudentKeys  # students' keys, to open their personal data
    access: AccessRecorder  # queues access-log entries for the trust store (infra/access_log.py)

    def read_position(self, conn: Connection) -> int:
        """The log position the read models reflect (the tailer's, or every Kafka partition's)."""
        ...


def adapters(request: Request) -> Adapters:
    found: Adapters = request.app.state.ledger
    return found


# The narrow dependencies routes take: each the one adapter it uses. async: a
# dependency this cheap is not worth a trip to the thread pool.


async def _event_store(request: Request) -> LedgerStore:
    return adapters(request).store


async def _catalog(request: Request) -> Catalog:
    return adapters(request).catalog


async def _tokens(request: Request) -> TokenStore:
    return adapters(request).tokens


async def _read_models(request: Request) -> Engine:
    return adapters(request).engine


async def _trust(request: Request) -> Engine:
    return adapters(request).trust


async def _keys(request: Request) -> StudentKeys:
    return adapters(request).keys


EventStoreDep = Annotated[LedgerStore, Depends(_event_store)]
CatalogDep = Annotated[Catalog, Depends(_catalog)]
TokensDep = Annotated[TokenStore, Depends(_tokens)]
ReadModelsDep = Annotated[Engine, Depends(_read_models)]
TrustDep = Annotated[Engine, Depends(_trust)]
KeysDep = Annotated[StudentKeys, Depends(_keys)]


def authenticate(request: Request, tokens: TokenStore) -> Principal:
    """The caller: its bearer token, else the dashboards' session cookie
    (services/session.py), which a write must back with its CSRF token."""
    header = request.headers.get("authorization")
    if header is None and SESSION_COOKIE in request.cookies:
        who = session_principal(request, tokens)
        request.state.principal = who
        return who
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise StarletteHTTPException(401, "a bearer token is required", {"WWW-Authenticate": "Bearer"})
    principal = tokens.authenticate(token.strip())
    if principal is None:
        raise StarletteHTTPException(401, "unknown, revoked or expired token", {"WWW-Authenticate": "Bearer"})
    request.state.principal = principal
    return principal


def get_principal(request: Request, tokens: TokensDep) -> Principal:
    """The caller of a write (reads get theirs from `ReadDep`)."""
    return authenticate(request, tokens)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_role(principal: Principal, *roles: str) -> None:
    if principal.role not in roles:
        raise Forbidden(f"role {principal.role!r} may not do this")


def role_in(*roles: str) -> Callable[[Principal], Principal]:
    """A dependency admitting these roles. As a dependency it runs before the
    body is validated, so a role that may not write gets 403 whatever it sent."""

    def admit(who: PrincipalDep) -> Principal:
        require_role(who, *roles)
        return who

    return admit


def scoped_students(read_models: Engine | Connection, principal: Principal) -> set[str] | None:
    """The students a principal may see; None means all of them.
    `read_models`: the request's read connection, if it has one, else the
    engine to take one from when the answer needs a query.

    A teacher sees the students enrolled in its classes; a leader those of its
    schools: registered at one, or enrolled in a class of one (a principal
    reads the class maps of its school, whoever sits in them)."""
    if principal.role in ("admin", "auditor"):
        return None
    ids = set(principal.scoped("student"))
    query: Executable | None = None
    if principal.role == "teacher":
        query = select(enrolments.c.student_id).where(enrolments.c.class_id.in_(principal.scoped("class")))
    elif principal.role == "leader":
        schools = principal.scoped("school")
        query = union(
            select(students.c.student_id).where(students.c.school_id.in_(schools)),
            select(enrolments.c.student_id)
            .join(classes, classes.c.class_id == enrolments.c.class_id)
            .where(classes.c.school_id.in_(schools)),
        )
    if query is not None:
        if isinstance(read_models, Connection):
            ids |= set(read_models.execute(query).scalars())
        else:
            with read_models.connect() as own:
                ids |= set(own.execute(query).scalars())
    if principal.role in ("student", "guardian", "teacher", "leader"):
        return ids
    return set()  # analyst, ingest: nothing that names a student
