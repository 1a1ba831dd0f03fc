"""A read that may wait has its path and query parameters validated first.

FastAPI calls every dependency whose own parameters are valid, and refuses the
request for the others only afterwards. So a read with a `min_position` the
read models have not reached and, say, `known_at=bad` or an id too long waited
up to 5 s in `open_read` and answered 503: a refusal it was owed at once came
late, and as "try again". One app-wide dependency, which runs before the
routes' own, validates every parameter the matched route declares (its
dependencies' included) and refuses the request with all the errors FastAPI
would have named. Only for a request with `min_position`, the one thing that
waits: the walk costs about 0.2 ms, which other reads need not pay twice.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_params_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute


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


async def validate_parameters_first(request: Request) -> None:
    # async: no I/O, so no trip to the thread pool.
    route = request.scope.get("route")
    if "min_position" not in request.query_params or not isinstance(route, APIRoute):
        return
    errors = invalid_parameters(route.dependant, request)
    if errors:
        raise RequestValidationError(errors)
