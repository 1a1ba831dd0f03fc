"""Signing in and out, and the home page (CONTRACT.md §3, "Dashboards").

`/` is the sign-in form (a field labelled "Token", a "Sign in" button);
POST /sign-in checks the form's CSRF token and the bearer token, then sets
the session cookie (services/session.py) and sends the browser home, to
/ui: what the role may open, from the registry of views. POST /sign-out
clears the session. Both forms write, so both carry the CSRF token.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.http import adapters
from services.query.ui.pages import HOME, PageDep, render
from services.query.ui.registry import offered
from services.session import (
    CSRF_COOKIE,
    CSRF_FIELD,
    SESSION_COOKIE,
    clear_cookie,
    csrf_valid,
    new_csrf,
    seal,
    session_key,
    session_token,
    set_cookie,
)

router = APIRouter(include_in_schema=False)
MAX_TOKEN = 512  # far beyond any token `mastery token create` prints


@router.get("/", response_class=HTMLResponse)
def sign_in_page(request: Request) -> Response:
    """The form; a browser already signed in goes home."""
    token = session_token(request)
    if token is not None and adapters(request).tokens.authenticate(token) is not None:
        return RedirectResponse(HOME, status_code=303)
    return render(request, "signin.html")


async def _form(request: Request) -> dict[str, str]:
    """An urlencoded form's fields (the first of each); the body is small:
    BodyLimits caps it (services/middleware.py)."""
    body = (await request.body()).decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True, max_num_fields=10).items()}


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(request: Request) -> Response:
    form = await _form(request)
    if not csrf_valid(request, form.get(CSRF_FIELD)):
        return await run_in_threadpool(_stale_form, request)
    token = form.get("token", "").strip()
    found = None
    if token and len(token) <= MAX_TOKEN:
        found = await run_in_threadpool(adapters(request).tokens.authenticate, token)
    if found is None:
        # The API's words for a token it refuses; nothing says whether it ever existed.
        context = {"error": "That token is unknown, revoked or expired."}
        return await run_in_threadpool(render, request, "signin.html", context, 401)
    key = await run_in_threadpool(session_key, request)
    response = RedirectResponse(HOME, status_code=303)
    sealed = seal(key, token)
    set_cookie(request, response, SESSION_COOKIE, sealed)
    new_csrf(request, response, sealed)  # a new nonce with the new session: tokens of before are void
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    form = await _form(request)
    if not csrf_valid(request, form.get(CSRF_FIELD)):
        return await run_in_threadpool(_stale_form, request)
    response = RedirectResponse("/", status_code=303)
    clear_cookie(request, response, SESSION_COOKIE)
    clear_cookie(request, response, CSRF_COOKIE)
    return response


def _stale_form(request: Request) -> Response:
    """A form without a valid CSRF token: from another site, or a page older
    than the browser's session (signed in or out in another tab)."""
    context = {
        "status": 403,
        "title": "Form expired",
        "detail": "This form is out of date or did not come from this site. Go back, reload and try again.",
    }
    return render(request, "refused.html", context, status=403)


@router.get(HOME, response_class=HTMLResponse)
def home(request: Request, page: PageDep) -> Response:
    """What the principal's role may open, view by view."""
    views = offered(page.conn, page.who)
    return render(request, "home.html", {"views": views}, who=page.who)
