"""POST /v1/events reads and validates its body itself (one pass of pydantic's
JSON parser); these pin down that it answers as FastAPI's own body handling did
and that the API documentation still describes the body."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.testclient import TestClient

from tests.distributed import openapi_of
from tests.helpers import attempt, schema_refs, seed_roster


def test_openapi_documents_the_event_batch_body(client: TestClient) -> None:
    doc = openapi_of(client)  # on the distributed backend, ingest's and query's
    body = doc["paths"]["/v1/events"]["post"]["requestBody"]
    assert body["required"] is True
    assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/EventBatchIn"}
    schemas = doc["components"]["schemas"]
    assert schemas["EventBatchIn"]["required"] == ["events"]
    assert {"AttemptIn", "RetakeIn", "ReflectionIn", "OverrideIn", "BenchmarkIn", "GoalIn", "VoidIn"} <= set(
        schemas
    )
    assert schemas["ScoreIn"]["properties"]["percent"]
    for ref in schema_refs(doc):  # schemas, and the headers services/openapi.py documents
        kind, _, name = ref.removeprefix("#/components/").partition("/")
        assert name in doc["components"][kind], ref


def _post(c: TestClient, content: bytes, content_type: str | None) -> Any:
    headers = {"content-type": content_type} if content_type else {}
    return c.post("/v1/events", content=content, headers=headers)


def test_a_batch_is_read_as_json_for_json_media_types_only(client: TestClient) -> None:
    seed_roster(client)
    for media_type in ("application/json", "application/json; charset=utf-8", "application/vnd.batch+json"):
        r = _post(client, orjson.dumps({"events": [attempt()]}), media_type)
        assert r.status_code == 200, (media_type, r.text)
    for not_json in ("text/plain", None):
        r = _post(client, orjson.dumps({"events": [attempt()]}), not_json)
        assert r.status_code == 422, not_json
        assert r.headers["content-type"].startswith("application/problem+json")
        assert [e["loc"] for e in r.json()["errors"]] == [["body"]]


def test_an_empty_body_is_422_at_the_body(client: TestClient) -> None:
    r = _post(client, b"", "application/json")
    assert r.status_code == 422
    assert r.json()["errors"] == [{"loc": ["body"], "msg": "Field required"}]


def test_json_that_is_not_a_batch_is_422_and_broken_json_400(client: TestClient) -> None:
    r = _post(client, b"[1, 2]", "application/json")
    assert r.status_code == 422
    assert [e["loc"] for e in r.json()["errors"]] == [["body"]]
    r = _post(client, b'{"events": [}', "application/json")
    assert r.status_code == 400
    assert "not valid JSON" in r.json()["detail"]
