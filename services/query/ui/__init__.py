"""The dashboards (issue 14, docs/dashboards.md), served by the query service.

`install_ui(app)` adds the sign-in and home pages (signin.py), the static
assets (static/, vendored libraries under static/vendor/) and every view of
the package services/query/ui/views/: each module there that has a
`router` has it included, and registers its entry on the home page
(registry.py) when imported. Adding a view is adding a module there, a
template under templates/ and its script under static/.
"""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.query.ui import views
from services.query.ui.invalid import html_for_pages
from services.query.ui.pages import HERE, STATIC, SignInRequired, to_sign_in
from services.query.ui.signin import router as signin_router


def view_modules() -> list[str]:
    """The modules of services/query/ui/views/, in name order."""
    return sorted(f"{views.__name__}.{m.name}" for m in pkgutil.iter_modules(views.__path__))


def install_ui(app: FastAPI) -> None:
    app.include_router(signin_router)
    for name in view_modules():
        module = importlib.import_module(name)
        router = getattr(module, "router", None)
        if router is not None:
            app.include_router(router)
    app.mount(STATIC, StaticFiles(directory=HERE / "static"), name="ui-static")
    app.add_exception_handler(SignInRequired, to_sign_in)
    html_for_pages(app)  # after the app's own handlers, which it wraps
