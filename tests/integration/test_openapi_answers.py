"""The OpenAPI document lists every answer of every operation with its schema,
media type and headers (issue 10), and the answers the service gives are
among the ones it documents."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.middleware import BODY_LIMIT, IMPORT_BODY_LIMIT
from tests.distributed import openapi_of
from tests.helpers import attempt, schema_refs, seed_roster
from tests.integration.oneroster_support import BULK, ZIP, zipped

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
IMPORT = "/v1/imports/oneroster"
JSON = {"content-type": "application/json"}


@pytest.fixture
def doc(client: TestClient) -> dict[str, Any]:
    return openapi_of(client)  # on the distributed backend, ingest's and query's


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, ops in doc["paths"].items() for method, op in ops.items()]


def test_every_answer_has_a_description_a_schema_and_the_request_id(doc: dict[str, Any]) -> None:
    for path, method, op in _operations(doc):
        for status, answer in op["responses"].items():
            where = f"{method} {path} {status}"
            assert answer["description"], where
            assert answer["content"], where
            assert all("schema" in media for media in answer["content"].values()), where
            assert answer["headers"]["X-Request-ID"] == {"$ref": "#/components/headers/X-Request-ID"}, where
            if status.startswith(("4", "5")):
                assert answer["content"] == {"application/problem+json": {"schema": PROBLEM_REF}}, where


def test_every_reference_resolves_and_fastapis_422_shape_is_gone(doc: dict[str, Any]) -> None:
    for ref in schema_refs(doc):
        kind, _, name = ref.removeprefix("#/components/").partition("/")
        assert name in doc["components"][kind], ref
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    problem = doc["components"]["schemas"]["Problem"]
    assert {"title", "status", "detail"} <= set(problem["required"])
    assert {"type", "title", "status", "detail", "errors", "request_id"} <= set(problem["properties"])


def test_each_operation_lists_the_answers_its_shape_can_give(doc: dict[str, Any]) -> None:
    for path, method, op in _operations(doc):
        statuses = set(op["responses"])
        names = {p["name"] for p in op.get("parameters", [])}
        where = f"{method} {path}"
        assert "422" in statuses, where
        if path.startswith("/v1/"):
            assert {"401", "403"} <= statuses, where
            assert "WWW-Authenticate" in op["responses"]["401"]["headers"], where
        if "requestBody" in op:
            assert {"400", "413", "503"} <= statuses, where
            assert "Retry-After" in op["responses"]["503"]["headers"], where
        if method == "put":
            assert op["responses"]["201"]["content"] == op["responses"]["200"]["content"], where
        if method == "get" and "{" in path:
            assert "404" in statuses, where
        if "min_position" in names:
            assert {"Retry-After", "X-Projection-Position"} <= set(op["responses"]["503"]["headers"]), where
            assert "X-Projection-Position" in op["responses"]["200"]["headers"], where
    events = doc["paths"]["/v1/events"]["post"]["responses"]
    assert {"200", "400", "401", "403", "409", "413", "422"} <= set(events)
    assert set(doc["paths"]["/ready"]["get"]["responses"]) >= {"200", "503"}
    assert "text/plain" in next(iter(doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"]))


def test_the_answers_given_are_the_ones_documented(client: TestClient, doc: dict[str, Any]) -> None:
    seed_roster(client)
    given = [
        ("put", "/v1/schools/{school_id}", client.put("/v1/schools/new", json={"name": "New"})),
        ("put", "/v1/schools/{school_id}", client.put("/v1/schools/new", json={"name": "New"})),
        ("put", "/v1/schools/{school_id}", client.put("/v1/schools/x", content=b"{", headers=JSON)),
        ("put", "/v1/schools/{school_id}", client.put("/v1/schools/x", content=b" " * (BODY_LIMIT + 1))),
        (
            "put",
            "/v1/schools/{school_id}",
            client.put("/v1/schools/x", content=b"[" * 40 + b"]" * 40, headers=JSON),
        ),
        ("post", "/v1/events", client.post("/v1/events", json={"events": [attempt()]})),
        ("post", "/v1/events", client.post("/v1/events", json={"events": []})),
        ("post", IMPORT, client.post(IMPORT, content=zipped(BULK), headers=ZIP)),
        ("post", IMPORT, client.post(IMPORT, content=b"PK not a zip", headers=ZIP)),
        ("post", IMPORT, client.post(IMPORT, content=zipped(BULK), headers={"content-type": "text/csv"})),
        ("post", IMPORT, client.post(IMPORT, content=zipped(BULK / ".." / "delta"), headers=ZIP)),
        ("post", IMPORT, client.post(IMPORT, content=b"P" * (IMPORT_BODY_LIMIT + 1), headers=ZIP)),
        ("get", "/v1/students/{student_id}/mastery", client.get("/v1/students/nobody/mastery")),
        (
            "get",
            "/v1/students/{student_id}/mastery",
            client.get("/v1/students/s1/mastery", headers={"Authorization": ""}),
        ),
        ("get", "/v1/objectives", client.get("/v1/objectives", params={"min_position": 10**6})),
        ("get", "/v1/objectives", client.get("/v1/objectives", params={"course": "algebra-1", "limit": 1})),
        ("get", "/v1/objectives", client.get("/v1/objectives", params={"after": "unknown"})),
        ("get", "/v1/schools", client.get("/v1/schools", params={"limit": 1000})),
        ("get", "/v1/schools/{school_id}", client.get("/v1/schools/sch1")),
        ("get", "/v1/schools/{school_id}", client.get("/v1/schools/nowhere")),
        ("get", "/v1/classes", client.get("/v1/classes", params={"school_id": "sch1"})),
        ("get", "/v1/classes", client.get("/v1/classes", params={"limit": 0})),
        ("get", "/v1/classes/{class_id}", client.get("/v1/classes/c1")),
        ("get", "/v1/classes/{class_id}", client.get("/v1/classes/nowhere")),
        ("get", "/v1/students/{student_id}", client.get("/v1/students/nobody")),
        (
            "get",
            "/v1/students/{student_id}",
            client.get("/v1/students/s1", headers={"Authorization": "Bearer wrong"}),
        ),
        ("get", "/v1/schools/{school_id}/summary/weekly", client.get("/v1/schools/sch1/summary/weekly")),
        ("get", "/v1/schools/{school_id}/summary/weekly", client.get("/v1/schools/nowhere/summary/weekly")),
        ("get", "/v1/district/summary/weekly", client.get("/v1/district/summary/weekly")),
        ("get", "/ready", client.get("/ready")),
        ("get", "/metrics", client.get("/metrics")),
    ]
    seen = set()
    for method, path, r in given:
        documented = doc["paths"][path][method]["responses"]
        assert str(r.status_code) in documented, (method, path, r.status_code, r.text)
        media = r.headers["content-type"].split(";")[0]
        assert any(m.split(";")[0] == media for m in documented[str(r.status_code)]["content"]), (path, media)
        seen.add(r.status_code)
    assert seen == {200, 201, 400, 401, 404, 413, 415, 422, 503}


def test_every_v1_operation_declares_the_bearer_scheme(doc: dict[str, Any]) -> None:
    # What /docs' Authorize button and generated clients go by.
    scheme = doc["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for path, method, op in _operations(doc):
        expected: list[dict[str, list[str]]] | None = [{"bearer": []}] if path.startswith("/v1/") else None
        assert op.get("security") == expected, (method, path)
