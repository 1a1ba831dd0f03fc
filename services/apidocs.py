"""The API docs page, `/docs` (Swagger UI), served whole by the service.

FastAPI's own page loads Swagger UI's script and stylesheet from a CDN, so
without internet it was blank. The files come from the `fastapi-offline`
package instead (it vendors a current Swagger UI; its version and licence are
in docs/operations.md) and are answered at /docs/assets/NAME. Only the files
the page uses are answered: the package also holds ReDoc, which we do not
offer (one docs page is enough, and ReDoc cannot send a request).

No OAuth2 redirect page: the API's one security scheme is a bearer token
(services/openapi.py), pasted into the Authorize dialog.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response

DOCS = "/docs"
ASSETS = "/docs/assets"
_FILES = Path(str(files("fastapi_offline") / "static"))
_MEDIA_TYPES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon.png": "image/png",
}
SWAGGER_UI_PARAMETERS = {
    # Not kept in the browser's localStorage: a token reads children's
    # records, and a page left on a shared school computer would hand it to
    # the next person. Pasted again after a reload.
    "persistAuthorization": False,
    # Swagger UI would send the document to swagger.io's validator for a badge.
    "validatorUrl": None,
}


def install_api_docs(app: FastAPI) -> None:
    """/docs and its assets, for every role (create the app with docs_url=None
    and redoc_url=None so that FastAPI adds no CDN page of its own)."""
    for name, media_type in _MEDIA_TYPES.items():
        path = _FILES / name
        if not path.is_file():  # a broken install: say so at start, not as a 500 per page view
            raise RuntimeError(f"fastapi-offline has no {name} at {path}")
        _add_asset(app, name, path, media_type)

    openapi_url = app.openapi_url or "/openapi.json"

    @app.get(DOCS, include_in_schema=False)
    async def api_docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")  # behind a proxy that mounts us under a prefix
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} API",
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon.png",
            oauth2_redirect_url=None,
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        )


def _add_asset(app: FastAPI, name: str, path: Path, media_type: str) -> None:
    async def asset(request: Request) -> Response:
        # Revalidated on every view (no-cache) and answered 304 while unchanged:
        # the 1.5 MB bundle is sent once, and a new one after an upgrade at once.
        response = FileResponse(path, media_type=media_type, stat_result=os.stat(path))
        response.headers["Cache-Control"] = "no-cache"
        etag = response.headers["etag"]
        if etag in _etags(request.headers.get("if-none-match", "")):
            return Response(status_code=304, headers={"ETag": etag, "Cache-Control": "no-cache"})
        return response

    app.add_api_route(f"{ASSETS}/{name}", asset, methods=["GET"], include_in_schema=False)


def _etags(if_none_match: str) -> set[str]:
    """The entity tags of an If-None-Match header, weak ones as strong (RFC 9110 §13.1.2)."""
    return {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
