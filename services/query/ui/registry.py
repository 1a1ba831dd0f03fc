"""The registry of dashboard views: what the home page offers each role.

A view registers itself, in its own module under services/query/ui/views/,
with `register(View(...))` at import; `install_ui` imports every module of
that package, so a new view needs no edit anywhere else. Its `links` says
which pages of it the signed-in principal may open (one per class a
teacher teaches, the student a student is, ...), read from the read models
with the same scope the API applies; the home page lists them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from infra.tokens import Principal


@dataclass(frozen=True)
class Link:
    href: str
    label: str
    detail: str = ""  # a second line: a school, a grade, a scope


@dataclass(frozen=True)
class View:
    key: str  # unique: "class", "student", "school", "district", "audit"
    title: str  # the home page's heading for its links: "Class trackers"
    roles: frozenset[str]  # the roles that may open it (as the API it reads admits)
    links: Callable[[Connection, Principal], list[Link]]  # the pages of it this principal may open
    order: int = 100  # place on the home page, lowest first
    description: str = ""


_VIEWS: dict[str, View] = {}


def register(view: View) -> View:
    """Add a view; a second view with the same key is a programming error."""
    if view.key in _VIEWS and _VIEWS[view.key] is not view:
        raise ValueError(f"a dashboard view {view.key!r} is registered already")
    _VIEWS[view.key] = view
    return view


def registered() -> list[View]:
    return sorted(_VIEWS.values(), key=lambda v: (v.order, v.key))


def offered(conn: Connection, who: Principal) -> list[tuple[View, list[Link]]]:
    """The views this principal's role may open, each with its links (a view
    with no link for this principal, a teacher without classes, is left out)."""
    out = []
    for view in registered():
        if who.role in view.roles:
            links = view.links(conn, who)
            if links:
                out.append((view, links))
    return out
