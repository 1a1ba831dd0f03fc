"""What every dashboard page shares: the signed-in principal and a read
connection (`PageDep`), rendering a template with the layout's context
(`render`), and the HTML answers for a refusal and for no session.

A page is an HTML shell: the server checks that the principal may open it
(with the API's own scope functions, so a page and its API answer the same
404) and renders the frame; its script fetches the data from /v1 with the
session cookie, so the API's scoping, suppression and access log apply to
the dashboards unchanged. No page names a student in its HTML unless it
records that read itself (services/access_records.py `names_students`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Connection

from infra.tokens import Principal
from services.errors import ProblemError
from services.http import adapters
from services.session import SESSION_COOKIE, current_csrf, new_csrf, session_token

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
STATIC = "/ui/static"
HOME = "/ui"
# Pages load nothing from elsewhere and run no inline script: a stray
# reference to a CDN or an injected <script> fails loudly in the browser.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # pages name children: not kept in the browser's cache
}


class SignInRequired(Exception):
    """No session, or one whose token is revoked or expired: off to `/`."""


@dataclass(frozen=True)
class Page:
    who: Principal
    conn: Connection  # the read models, in autocommit, for the page's scope checks and links


def open_page(request: Request) -> Iterator[Page]:
    """The signed-in principal (from the session cookie only: a page is for a
    browser) and one read connection, closed after the page."""
    ledger = adapters(request)
    token = session_token(request)
    who = ledger.tokens.authenticate(token) if token is not None else None
    if who is None:
        raise SignInRequired
    request.state.principal = who  # as services/http.py does: the access log's "who"
    conn = ledger.reader.connect()
    try:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        yield Page(who, conn)
    finally:
        conn.close()


PageDep = Annotated[Page, Depends(open_page)]


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    status: int = 200,
    who: Principal | None = None,
) -> HTMLResponse:
    """`template` (extending base.html) with what the layout needs: the
    principal, the CSRF token of the sign-out form and of any script that
    writes (a new nonce when the browser has none), and the static prefix."""
    response = HTMLResponse("", status_code=status, headers=SECURITY_HEADERS)
    csrf = current_csrf(request) or new_csrf(request, response, request.cookies.get(SESSION_COOKIE, ""))
    layout = {"request": request, "who": who, "csrf_token": csrf, "static": STATIC, "home": HOME}
    page = TEMPLATES.get_template(template).render({**layout, **(context or {})})
    response.body = page.encode()
    response.headers["content-length"] = str(len(response.body))
    return response


def refusal(request: Request, page: Page, error: ProblemError) -> HTMLResponse:
    """A refusal as a page, with the API's status: 404 for what does not exist
    or is outside the scope (the same words whichever it is), 403 for a role
    that may not open this kind of page at all."""
    return render(
        request,
        "refused.html",
        {"status": error.status, "title": error.title, "detail": error.detail},
        status=error.status,
        who=page.who,
    )


def to_sign_in(_request: Request, _exc: Exception) -> Response:
    return RedirectResponse("/", status_code=303, headers={"Cache-Control": "no-store"})
