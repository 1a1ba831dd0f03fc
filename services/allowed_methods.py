"""405 answers whose `Allow` names every method of the path (RFC 9110 §15.5.6).

A path's methods may live in different routers (`PUT /v1/objectives/{id}` in
ingest, `GET` in query). Starlette answers 405 from the first route whose path
matched, naming only that route's methods (`Allow: PUT`), so a client would
not learn that GET is there. Here the request is routed again with each
method, through the routes' public `matches`.
"""

from __future__ import annotations

from http import HTTPMethod

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from services.problems import problem


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app answers on the request's path."""
    routes = request.app.router.routes
    return sorted(
        method.value
        for method in HTTPMethod
        if any(route.matches({**request.scope, "method": method.value})[0] is Match.FULL for route in routes)
    )


def install_method_not_allowed(app: FastAPI) -> None:
    # A handler for the status, which Starlette looks up before the one for
    # the exception class (services/http.py), so everything else stays as it is.
    @app.exception_handler(405)
    async def _not_allowed(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        resp = problem(405, "Method Not Allowed", str(exc.detail))
        resp.headers["Allow"] = ", ".join(allowed_methods(request))
        return resp
