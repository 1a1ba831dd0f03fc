"""Unknown query parameters are refused: 422 naming each (docs/input-rules.md).

FastAPI ignores a query parameter a route does not declare, so a typo reads
as its absence: `?asof=` gave an auditor today's status as if it were the
past one asked for. One app-wide dependency compares the request's keys with
what the matched route declares, its dependencies' parameters included
(`min_position` of every read, `as_of`/`known_at`), by their aliases
(`format`).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute


def declared_query_params(dependant: Dependant) -> set[str]:
    """The query parameters a route (its dependant) takes. A walk of a few
    nodes, done only for a request that has a query string."""
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= declared_query_params(sub)
    return names


async def refuse_unknown_query_params(request: Request) -> None:
    # async: no I/O, so no trip to the thread pool. Most requests carry no
    # query string at all and pay one check.
    if not request.scope.get("query_string"):
        return
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = declared_query_params(route.dependant)
    unknown = [name for name in dict.fromkeys(request.query_params.keys()) if name not in known]
    if unknown:
        takes = ", ".join(sorted(known)) or "none"
        raise RequestValidationError(
            [
                {
                    "type": "query_unknown",
                    "loc": ("query", name),
                    "msg": f"unknown query parameter; this endpoint takes: {takes}",
                    "input": request.query_params[name],
                }
                for name in unknown
            ]
        )
