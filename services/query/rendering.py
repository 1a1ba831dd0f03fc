"""Large read responses written straight to JSON bytes.

FastAPI validates a returned model against `response_model` and serialises it
with pydantic: for the 5,000 rows of an audit history, building the models
alone took longer than the replay. `model_json` writes a document the code
built itself (already of the model's shape) with orjson, whose output for
these types (strings, numbers, booleans, null, lists, dicts, datetimes with
`Z` for UTC) is byte for byte pydantic's; tests/unit/test_rendering.py holds
the two to that. (They round an offset with seconds differently; no such
offset gets in: ingest and the query parameters accept whole minutes only.)
What orjson refuses (integers beyond 64 bits in a payload) goes through the
model as before. The endpoint keeps its `response_model`, so OpenAPI
documents the same schema.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Response
from pydantic import BaseModel


def model_json(doc: dict[str, Any], model: type[BaseModel]) -> bytes:
    """`doc` as `model.model_validate(doc).model_dump_json()` writes it."""
    try:
        return orjson.dumps(doc, option=orjson.OPT_UTC_Z)
    except orjson.JSONEncodeError:
        return model.model_validate(doc).model_dump_json().encode()


def json_response(doc: dict[str, Any], model: type[BaseModel]) -> Response:
    return Response(model_json(doc, model), media_type="application/json")
