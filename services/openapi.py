"""Every answer of every operation in the OpenAPI document, with its schema,
media type and headers (CONTRACT.md §2), written in one place.

FastAPI documents the success answer and a 422 in its own shape; the
service answers errors as problem+json and more of them. Which ones an
operation can give follows from its shape, so this walks the generated
document and adds them by rule rather than route by route:

* every answer: `X-Request-ID`;
* under /v1 (a token needed): the bearer security scheme (so /docs has an
  Authorize button and clients generated from the document send the
  token), 401, and 403 (a role that may not do it);
* a read with a path parameter or a query parameter naming a thing
  (`..._id`): 404, also the answer for a thing outside the caller's scope
  (a PUT creates what its path names);
* a request body: 400 (not JSON), 413 (too large), 503 with `Retry-After`
  (the event log busy: nothing stored);
* every operation: 422 (an invalid value, an unknown query parameter);
* `min_position`: 503 with `Retry-After`, and `X-Projection-Position` on
  the 200 and the 503;
* a PUT: 201 (created) beside the 200 (replaced or unchanged);
* an error status a route declares itself (POST /v1/events: 409) gets the
  problem+json content and schema like the others;
* a media type declared without a schema (an export's CSV or Parquet): a
  string of bytes.
"""

from __future__ import annotations

import copy
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

from services.problems import PROBLEM


class FieldError(BaseModel):
    loc: list[str | int] = Field(description='where: ["body", "events", 3, "score"], ["query", "as_of"]')
    msg: str


class Problem(BaseModel):
    """RFC 9457 problem details, as every refusal and error is answered."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = Field(None, description="for validation: each invalid field")
    request_id: str | None = Field(None, description="the request's X-Request-ID, as the log has it")


_SCHEMA_REF = "#/components/schemas/{model}"
_BEARER = "bearer"
_DESCRIPTIONS = {
    "400": "the body is not valid JSON",
    "401": "no token, or an unknown, revoked or expired one",
    "403": "the caller's role may not do this",
    "404": "the thing does not exist or is outside the caller's scope",
    "409": "an event_id reused with a different body",
    "413": "the body is larger than the service accepts (refused before it is read whole)",
    "422": "well-formed but invalid, or a query parameter the operation does not have; nothing is stored",
    "503": (
        "try again after Retry-After: the read models have not reached `min_position` in time, too many"
        " reads wait for it, or (a write) the event log is busy and nothing was stored"
    ),
}
_HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "description": "the request's id: the client's own if it sent a sane one, else a new one",
        "schema": {"type": "string"},
    },
    "X-Projection-Position": {
        "description": "the event-log position the read models had reached when the read began",
        "schema": {"type": "integer", "minimum": 0},
    },
    "Retry-After": {"description": "seconds to wait before trying again", "schema": {"type": "integer"}},
    "WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}},
}


def document_answers(app: FastAPI) -> None:
    """Make `app.openapi()` return the document with every answer in it."""
    generate = app.openapi
    done = False

    def openapi() -> dict[str, Any]:
        nonlocal done
        schema = generate()  # cached by FastAPI after the first call, so this runs once
        if not done:
            _add_answers(schema)
            done = True
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _add_answers(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {})
    models = components.setdefault("schemas", {})
    own = Problem.model_json_schema(ref_template=_SCHEMA_REF)
    models.update(own.pop("$defs", {}))
    models["Problem"] = own
    components.setdefault("headers", {}).update(_HEADERS)
    components.setdefault("securitySchemes", {})[_BEARER] = {
        "type": "http",
        "scheme": "bearer",
        "description": "a token from `mastery token create` (or MASTERY_BOOTSTRAP_TOKEN)",
    }
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            _operation(path, method, operation)
    # FastAPI's own shape for a 422, which the service never answers with.
    text = repr(schema["paths"])
    for name in ("HTTPValidationError", "ValidationError"):
        if _SCHEMA_REF.format(model=name) not in text:
            models.pop(name, None)


def _operation(path: str, method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    params = operation.get("parameters", [])
    names = {p["name"] for p in params}
    statuses = {"422"}
    if path.startswith("/v1/"):
        statuses |= {"401", "403"}
        operation["security"] = [{_BEARER: []}]
    if method == "get" and any(p["in"] == "path" or p["name"].endswith("_id") for p in params):
        statuses.add("404")
    if "requestBody" in operation:
        statuses |= {"400", "413", "503"}  # 503: the event log is busy, nothing stored
    waits = "min_position" in names
    if waits:
        statuses.add("503")
    if method == "put" and "200" in responses:
        ok = responses["200"]
        ok["description"] = "replaced, or unchanged"
        responses.setdefault("201", {**copy.deepcopy(ok), "description": "created"})
    for status in statuses:
        responses.setdefault(status, {})
    for status, answer in responses.items():
        for media in answer.get("content", {}).values():
            media.setdefault("schema", {"type": "string", "format": "binary"})  # a file: CSV, Parquet
        headers = answer.setdefault("headers", {})
        headers["X-Request-ID"] = _header_ref("X-Request-ID")
        if status.startswith(("4", "5")):
            if answer.get("description") in (None, "", "Validation Error"):  # FastAPI's, for its 422
                answer["description"] = _DESCRIPTIONS.get(status) or HTTPStatus(int(status)).phrase
            answer["content"] = {PROBLEM: {"schema": {"$ref": _SCHEMA_REF.format(model="Problem")}}}
        if status == "401":
            headers["WWW-Authenticate"] = _header_ref("WWW-Authenticate")
        if waits and status in ("200", "503"):
            headers["X-Projection-Position"] = _header_ref("X-Projection-Position")
        if status == "503":
            headers["Retry-After"] = _header_ref("Retry-After")
    operation["responses"] = dict(sorted(responses.items()))


def _header_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}
