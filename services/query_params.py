"""Parameter checks every route gets before its own dependencies run
(docs/input-rules.md).

* Unknown query parameters are refused: 422 naming each. FastAPI ignores a
  query parameter a route does not declare, so a typo reads as its absence:
  `?asof=` gave an auditor today's status as if it were the past one asked
  for. The request's keys are compared with what the matched route declares,
  its dependencies' parameters included (`min_position` of every read,
  `as_of`/`known_at`), by their aliases (`format`).
* A read that may wait has its path and query parameters validated first.
  FastAPI calls every dependency whose own parameters are valid, and refuses
  the request for the others only afterwards; so a read with a `min_position`
  the read models had not reached and, say, `known_at=bad` waited up to 5 s
  in `open_read` and answered 503: a refusal owed at once came late, and as
  "try again". Only for a request with `min_position`, the one thing that
  waits: the walk costs about 0.2 ms, which other reads need not pay twice.

Either refusal is given only to a caller with a valid token: without one, a
/v1 request is a 401 whatever its parameters, as it is when the route's own
validation refuses them (found by Schemathesis' ignored_auth check).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_params_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from services.http import adapters, authenticate


def declared_query_params(dependant: Dependant) -> set[str]:
    """The query parameters a route (its dependant) takes. A walk of a few
    nodes, done only for a request that has a query string."""
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= declared_query_params(sub)
    return names


def unknown_query_params(dependant: Dependant, request: Request) -> list[dict[str, Any]]:
    known = declared_query_params(dependant)
    takes = ", ".join(sorted(known)) or "none"
    return [
        {
            "type": "query_unknown",
            "loc": ("query", name),
            "msg": f"unknown query parameter; this endpoint takes: {takes}",
            "input": request.query_params[name],
        }
        for name in dict.fromkeys(request.query_params.keys())
        if name not in known
    ]


def invalid_parameters(dependant: Dependant, request: Request) -> list[dict[str, Any]]:
    """Each error once (a dependency may appear twice in a route's tree)."""
    errors: dict[tuple[Any, ...], dict[str, Any]] = {}
    pending = [dependant]
    while pending:
        node = pending.pop()
        for fields, received in (
            (node.path_params, request.path_params),
            (node.query_params, request.query_params),
        ):
            for err in request_params_to_args(fields, received)[1]:
                errors.setdefault((tuple(err["loc"]), err["msg"]), err)
        pending.extend(node.dependencies)
    return list(errors.values())


async def check_parameters_first(request: Request) -> None:
    # async: no I/O on the way through (most requests carry no query string
    # and pay one check); the token is looked up only to refuse.
    route = request.scope.get("route")
    if not request.scope.get("query_string") or not isinstance(route, APIRoute):
        return
    errors = unknown_query_params(route.dependant, request)
    if not errors and "min_position" in request.query_params:
        errors = invalid_parameters(route.dependant, request)
    if errors:
        if request.url.path.startswith("/v1/"):
            await run_in_threadpool(authenticate, request, adapters(request).tokens)
        raise RequestValidationError(errors)
