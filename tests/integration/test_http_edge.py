"""The HTTP edge (issue 10): bodies over their size are refused before they
are read whole, JSON the json module would choke on never reaches it, a
bearer token with any bytes is a 401, every response carries its request
id, and an unexpected error is a problem+json 500 that is not re-raised."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from services.inputs import JSON_TOO_DEEP
from services.middleware import BODY_LIMIT, EVENTS_BODY_LIMIT
from tests.conftest import AUTH
from tests.distributed import app_for
from tests.helpers import attempt, ledger_of, post, seed_roster

MiB = 1024 * 1024
JSON = {"content-type": "application/json"}


def _problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert body["request_id"] == r.headers["x-request-id"]
    return body


def _drive(
    app: Any, method: str, path: str, chunks: Iterator[bytes], headers: dict[str, str]
) -> tuple[int, bytes, int]:
    """One request straight through the ASGI app, its body sent in `chunks`
    (no Content-Length unless `headers` has one, as with chunked encoding).
    Returns the status, the body and how many chunks the app pulled."""
    pulled = 0
    status = 0
    out: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.disconnect"}
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            out.append(message.get("body", b""))

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
        "state": {},
    }
    asyncio.run(app(scope, receive, send))
    return status, b"".join(out), pulled


def _endless(chunk: bytes) -> Iterator[bytes]:
    while True:
        yield chunk


# --- body size ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "limit"),
    [("POST", "/v1/events", EVENTS_BODY_LIMIT), ("PUT", "/v1/schools/big", BODY_LIMIT)],
)
def test_a_declared_length_over_the_limit_is_413_before_any_of_the_body_is_read(
    client: TestClient, method: str, path: str, limit: int
) -> None:
    headers = {**AUTH, **JSON, "content-length": str(limit + 1)}
    app = app_for(client, method, path)  # ingest's, for a write on the distributed backend
    status, body, pulled = _drive(app, method, path, _endless(b" " * 65536), headers)
    assert status == 413, body
    assert pulled == 0
    assert ledger_of(client).store.head_position() == 0


@pytest.mark.parametrize(
    ("method", "path", "limit"),
    [
        ("POST", "/v1/events", EVENTS_BODY_LIMIT),
        ("PUT", "/v1/schools/big", BODY_LIMIT),
        ("GET", "/health", BODY_LIMIT),
    ],
)
def test_a_chunked_body_is_counted_as_it_streams_and_refused_at_its_limit(
    client: TestClient, method: str, path: str, limit: int
) -> None:
    chunk = b"[" * 65536
    headers = {**AUTH, **JSON, "transfer-encoding": "chunked"}
    status, body, pulled = _drive(app_for(client, method, path), method, path, _endless(chunk), headers)
    assert status == 413, body
    assert pulled == limit // len(chunk) + 1  # the chunk that passed the limit, and not one more
    assert b"larger than" in body
    assert ledger_of(client).store.head_position() == 0


@pytest.mark.parametrize(
    ("method", "path", "limit"),
    [("POST", "/v1/events", EVENTS_BODY_LIMIT), ("PUT", "/v1/schools/big", BODY_LIMIT)],
)
def test_an_unframed_body_is_counted_too(client: TestClient, method: str, path: str, limit: int) -> None:
    """Neither a length nor chunks is no body in HTTP/1.1, and such a request
    goes through unread; should a server hand a body over all the same, it is
    counted as the endpoint reads it."""
    chunk = b"[" * 65536
    app = app_for(client, method, path)
    status, body, pulled = _drive(app, method, path, _endless(chunk), {**AUTH, **JSON})
    assert status == 413, body
    assert pulled == limit // len(chunk) + 1
    assert ledger_of(client).store.head_position() == 0


def test_413_is_problem_json_with_the_limit(client: TestClient) -> None:
    r = client.put("/v1/schools/big", content=b'{"name": "' + b"a" * BODY_LIMIT + b'"}', headers=JSON)
    assert "1 MiB" in _problem(r, 413)["detail"]
    r = client.post("/v1/events", content=b" " * (EVENTS_BODY_LIMIT + 1), headers=JSON)
    assert "16 MiB" in _problem(r, 413)["detail"]
    assert ledger_of(client).store.head_position() == 0


def test_a_body_at_its_limit_is_read(client: TestClient) -> None:
    """Exactly 1 MiB passes the size check (what the schema says of it is another matter)."""
    body = b'{"name": "Lincoln"' + b" " * (BODY_LIMIT - 19) + b"}"
    assert len(body) == BODY_LIMIT
    assert client.put("/v1/schools/at-limit", content=body, headers=JSON).status_code == 201


# --- JSON the json module must not see ------------------------------------------------


def _nested(levels: int) -> bytes:
    return b'{"name": "n", "extra": ' + b"[" * (levels - 1) + b"1" + b"]" * (levels - 1) + b"}"


def test_json_deeper_than_32_levels_is_422_at_the_body(client: TestClient) -> None:
    for levels in (33, 1_000, 200_000):
        r = client.put("/v1/schools/deep", content=_nested(levels), headers=JSON)
        body = _problem(r, 422)
        assert body["errors"] == [{"loc": ["body"], "msg": JSON_TOO_DEEP}], levels
    cut_short = b'{"name": "n", "extra": ' + b"[" * 100_000  # the json module recursed on this too
    assert _problem(client.put("/v1/schools/deep", content=cut_short, headers=JSON), 422)["errors"]
    assert ledger_of(client).store.head_position() == 0
    # 32 levels reach the schema (which has its own say about an unknown field).
    r = client.put("/v1/schools/deep", content=_nested(32), headers=JSON)
    assert r.status_code in (201, 422) and JSON_TOO_DEEP not in r.text


def test_an_event_batch_deeper_than_its_parser_goes_is_the_same_422(client: TestClient) -> None:
    """POST /v1/events has its own parser (pydantic's, which stops at 200
    levels); the depth of what it parses is its schema's to bound."""
    seed_roster(client)
    before = ledger_of(client).store.head_position()
    event = b'{"events": [{"type": "attempt", "items": ' + b"[" * 1_000 + b"]" * 1_000 + b"}]}"
    body = _problem(client.post("/v1/events", content=event, headers=JSON), 422)
    assert body["errors"] == [{"loc": ["body"], "msg": JSON_TOO_DEEP}]
    assert ledger_of(client).store.head_position() == before


def test_brackets_inside_strings_do_not_count(client: TestClient) -> None:
    name = "[{" * 40 + '"]\\'
    r = client.put("/v1/schools/brackets", json={"name": name}, headers=JSON)
    assert r.status_code == 201, r.text


def test_a_lone_surrogate_is_refused_naming_where_and_a_pair_is_read(client: TestClient) -> None:
    """The json module reads a lone surrogate escape into the string (no
    check before it refuses one); the input rules refuse it in a value, and
    pydantic in a field name, as 422s that quote neither."""
    seed_roster(client, class_id=None)
    before = ledger_of(client).store.head_position()
    r = client.put("/v1/schools/sur", content=b'{"name": "Ann\\ud800"}', headers=JSON)
    assert [e["loc"] for e in _problem(r, 422)["errors"]] == [["body", "name"]]
    r = client.put("/v1/schools/sur", content=b'{"name": "Ann", "n\\udc00": 1}', headers=JSON)
    assert [e["loc"] for e in _problem(r, 422)["errors"]] == [["body"]]
    assert ledger_of(client).store.head_position() == before
    r = client.put("/v1/schools/sur", content=b'{"name": "\\ud83d\\ude00"}', headers=JSON)
    assert r.status_code == 201


def test_malformed_json_is_still_400(client: TestClient) -> None:
    r = client.put("/v1/schools/bad", content=b'{"name": ', headers=JSON)
    assert "not valid JSON" in _problem(r, 400)["detail"]


# --- bearer tokens --------------------------------------------------------------------


@pytest.mark.parametrize("token", [b"caf\xe9", "café".encode(), b"\xff\xfe", b"test-bootstrap-token\xe9"])
def test_a_token_with_non_ascii_bytes_is_401(client: TestClient, token: bytes) -> None:
    headers = {"Authorization": b"Bearer " + token}
    _problem(client.get("/v1/objectives", headers=headers), 401)
    _problem(client.put("/v1/schools/x", json={"name": "x"}, headers=headers), 401)
    _problem(client.post("/v1/events", json={"events": [attempt()]}, headers=headers), 401)


# --- request ids ----------------------------------------------------------------------


def test_every_response_carries_a_request_id(client: TestClient) -> None:
    answers = [
        client.get("/health"),
        client.get("/v1/objectives"),
        client.get("/v1/objectives", headers={"Authorization": ""}),
        client.get("/v1/nowhere"),
        client.put("/v1/schools/x", content=_nested(40), headers=JSON),
        client.put("/v1/schools/x", content=b" " * (BODY_LIMIT + 1), headers=JSON),
    ]
    ids = [r.headers["x-request-id"] for r in answers]
    assert len(set(ids)) == len(ids) and all(len(i) == 32 for i in ids)
    for r in answers[2:]:
        assert r.json()["request_id"] == r.headers["x-request-id"]


def test_a_sane_client_request_id_is_kept_and_stored_with_the_events(client: TestClient) -> None:
    seed_roster(client)
    mine = "batch-7/retry:2"
    r = client.post("/v1/events", json={"events": [attempt()]}, headers={"X-Request-ID": mine})
    assert r.status_code == 200 and r.headers["x-request-id"] == mine
    history = client.get("/v1/students/s1/history").json()["events"]
    assert [e["request_id"] for e in history] == [mine]
    for insane in ("a b", "x" * 129, "", "line\tbreak"):
        r = client.get("/v1/objectives", headers={"X-Request-ID": insane})
        assert r.headers["x-request-id"] != insane and len(r.headers["x-request-id"]) == 32


# --- 500s -----------------------------------------------------------------------------


def test_an_unexpected_error_is_a_problem_500_with_its_request_id_in_the_log(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A real one: the read models' table of objectives is gone. The TestClient
    re-raises whatever the app raises, so this passing also shows that the
    error is answered, not re-raised."""
    seed_roster(client, class_id=None)
    with ledger_of(client).engine.begin() as conn:
        conn.execute(text("ALTER TABLE rm_objectives RENAME TO rm_objectives_gone"))
    try:
        with caplog.at_level(logging.ERROR, logger="services.middleware"):
            r = client.get("/v1/objectives", headers={"X-Request-ID": "find-me-42"})
    finally:
        with ledger_of(client).engine.begin() as conn:
            conn.execute(text("ALTER TABLE rm_objectives_gone RENAME TO rm_objectives"))
    body = _problem(r, 500)
    assert body["request_id"] == "find-me-42" and body["title"] == "Internal Server Error"
    assert "rm_objectives" not in r.text  # the cause is in the log, not in the answer
    [record] = [rec for rec in caplog.records if "find-me-42" in rec.getMessage()]
    assert record.exc_info is not None
    assert client.get("/v1/objectives").status_code == 200


def test_a_failing_route_is_answered_not_reraised(settings: Any) -> None:
    """The handler on its own, with a route only this test mounts."""
    from services.app import create_app

    app: FastAPI = create_app(settings)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    with TestClient(app) as c:  # raise_server_exceptions: an exception that escaped would fail here
        r = c.get("/boom")
        assert _problem(r, 500)["detail"]
        assert "boom" not in r.text
        assert c.get("/health").status_code == 200


def test_writes_after_refusals_still_work(client: TestClient) -> None:
    seed_roster(client)
    for _ in range(3):
        client.put("/v1/schools/x", content=_nested(5_000), headers=JSON)
    assert post(client, attempt())["stored"] == 1
