"""A real `mastery serve`, one keep-alive connection: a 500 (a real one: the
read models lost a table) or a 413 is answered, and the next request on the
same connection is served. Uvicorn closed the connection of a request whose
app raised after its response began, which Starlette's error middleware did
after every 500."""

from __future__ import annotations

import contextlib
import http.client
import json
import sqlite3
from collections.abc import Iterator
from urllib.parse import urlsplit

import psycopg
import pytest

from services.middleware import EVENTS_BODY_LIMIT
from tests.e2e.serve_process import TOKEN, Server
from tests.e2e.workload import OBJECTIVES, seed

pytestmark = pytest.mark.stores_only("one `mastery serve` process (role all) whose store's tables it drops")

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@contextlib.contextmanager
def _table_gone(srv: Server, table: str) -> Iterator[None]:
    """Rename a read-model table away for a while, from outside the server."""
    gone = f"ALTER TABLE {table} RENAME TO {table}_gone"
    back = f"ALTER TABLE {table}_gone RENAME TO {table}"
    url = srv.env.get("MASTERY_DATABASE_URL")
    if url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(gone)
            try:
                yield
            finally:
                conn.execute(back)
        return
    embedded = sqlite3.connect(srv.data_dir / "readmodels.sqlite", timeout=30, isolation_level=None)
    try:
        embedded.execute(gone)
        yield
    finally:
        embedded.execute(back)
        embedded.close()


def _ask(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[http.client.HTTPResponse, bytes]:
    conn.request(method, path, body=body, headers={**AUTH, **(headers or {})})
    r = conn.getresponse()
    return r, r.read()


def test_a_500_and_a_413_leave_the_keep_alive_connection_open(server: Server) -> None:
    position = seed(server.start(), ["s1"])
    where = urlsplit(server.base)
    conn = http.client.HTTPConnection(where.hostname or "127.0.0.1", where.port, timeout=60)
    try:
        r, body = _ask(conn, "GET", f"/v1/objectives?min_position={position}")
        assert r.status == 200, body
        sock = conn.sock
        assert sock is not None

        with _table_gone(server, "rm_objectives"):
            r, body = _ask(conn, "GET", "/v1/objectives", headers={"X-Request-ID": "e2e-keep-alive-500"})
        assert r.status == 500, body
        assert r.getheader("content-type", "").startswith("application/problem+json")
        assert r.getheader("connection") is None  # nothing asked the client to go
        problem = json.loads(body)
        assert problem["request_id"] == r.getheader("x-request-id") == "e2e-keep-alive-500"
        assert "rm_objectives" not in body.decode()

        r, body = _ask(conn, "GET", "/v1/objectives")  # the same connection, still open
        assert r.status == 200, body
        assert sorted(o["objective_id"] for o in json.loads(body)["objectives"]) == sorted(OBJECTIVES)

        too_big = b" " * (EVENTS_BODY_LIMIT + 1)
        r, body = _ask(conn, "POST", "/v1/events", too_big, {"Content-Type": "application/json"})
        assert r.status == 413, body
        r, body = _ask(conn, "GET", "/health")
        assert r.status == 200 and json.loads(body)["status"] == "alive"
        assert conn.sock is sock  # never reconnected: http.client would have opened a new socket
    finally:
        conn.close()
    logged = server.log.read_text(errors="replace")
    line = next(line for line in logged.splitlines() if "e2e-keep-alive-500" in line)
    assert "unexpected error in GET '/v1/objectives'" in line
    assert "Traceback" in logged.partition(line)[2]  # right after it
