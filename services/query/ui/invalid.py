"""A page asked for with a parameter it cannot take answers an HTML page.

The app's parameter checks (services/query_params.py: an unknown query
parameter; FastAPI's own validation: an id that is not one) raise
RequestValidationError, whose app-wide handler answers the API's JSON 422.
A person who typed a bad id into the audit page's form, or followed a link
with a stray `?x=`, would see raw JSON; so for a page's address (not /v1,
not the ops endpoints) the same 422 is a page saying what was wrong, with a
way back. The API keeps its JSON.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from starlette.responses import Response

from services.http import adapters
from services.query.ui.pages import render
from services.session import session_token

# Not /docs: every role serves it, the ingest role without dashboards, so it
# keeps the API's one answer (problem+json) wherever it is asked.
PAGE_PATHS = frozenset({"/", "/sign-in", "/sign-out"})
Handler = Callable[[Request, Exception], Awaitable[Response] | Response]


def is_page(path: str) -> bool:
    return path in PAGE_PATHS or path == "/ui" or path.startswith("/ui/")


def explain(err: dict[str, Any]) -> str:
    """One line a person reads: which parameter, what it was, what is wrong."""
    loc = [str(p) for p in err.get("loc", ())]
    where, name = (loc[0], loc[-1]) if loc else ("request", "")
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    given = err.get("input")
    shown = f" “{given}”" if isinstance(given, str) and given and len(given) <= 80 else ""
    kind = {"query": "The parameter", "path": "The address part"}.get(where, "The value")
    if err.get("type") == "query_unknown":
        return f"{kind} “{name}” is not one this page takes ({msg.split('; ', 1)[-1]})."
    label = "student id" if name == "student_id" else name.replace("_", " ")
    return f"{kind} “{label}”{shown}: {msg}."


def html_for_pages(app: FastAPI) -> None:
    """Wrap the app's handler for RequestValidationError: pages get HTML."""
    api_handler: Handler = app.exception_handlers[RequestValidationError]

    async def handle(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, RequestValidationError) or not is_page(request.url.path):
            answer = api_handler(request, exc)
            return await answer if isinstance(answer, Awaitable) else answer
        token = session_token(request)
        tokens = adapters(request).tokens
        who = await run_in_threadpool(tokens.authenticate, token) if token is not None else None
        lines = [explain(e) for e in exc.errors()]
        return render(
            request,
            "invalid.html",
            {"title": "That address did not work", "lines": lines, "path": request.url.path},
            status=422,
            who=who,
        )

    app.add_exception_handler(RequestValidationError, handle)
