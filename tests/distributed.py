"""The distributed deployment in one test process (the `distributed` backend).

Four apps, each built by `create_app(settings, role)` exactly as `mastery
serve --role R` builds it, on one fresh PostgreSQL database and one fresh
Kafka topic and consumer group: `ingest` takes the writes, `relay` publishes
the event log to the topic, `projections` (a consumer-group worker) applies
what comes back from the broker to the read models, and `query` answers the
reads. Only the broker connects the writes to the reads: the query app runs
no projections, and the position its reads wait for (`?min_position=`,
`X-Projection-Position`) is the one the worker recorded per partition.

The test's `client` is one httpx client over the query app whose requests a
proxy-like transport sends on by what each role serves: a request whose
method is not GET or HEAD goes to ingest when ingest has a route at that path
(the writes, backfill, imports), everything else to query (reads, the pages
and their sign-in form). Cookies and headers live in the one client, as a
browser's would in front of a reverse proxy.

Apps run in process (each in its TestClient's event loop and threads), not as
`mastery serve` processes: the same role code, seconds faster per test, and a
failure's traceback lands in the test. tests/kafka/test_relay_processes.py is
where the roles run as real processes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Match

from infra.settings import Settings
from services.app import create_app
from tests.kafka_broker import new_topic

WORKER_ROLES = ("relay", "projections")
PARTITIONS = 3  # a student's events on one of them, the relay's watermarks on all
READ_METHODS = frozenset({"GET", "HEAD"})


def kafka_settings(bootstrap: str) -> dict[str, Any]:
    """The settings of a fresh topic (created with PARTITIONS) and consumer
    group on the broker, so no two tests see each other's events."""
    return new_topic(bootstrap, PARTITIONS).settings()


def apps_of(client: TestClient) -> list[FastAPI]:
    """The apps a client's requests reach: ingest and query for a distributed one."""
    transport = client._transport
    if isinstance(transport, _ByRole):
        return [transport.ingest_app, client.app]  # type: ignore[list-item]
    return [client.app]  # type: ignore[list-item]


def another_client(client: TestClient, **options: Any) -> TestClient:
    """A second client on the same running apps, with its own headers and
    cookies (a browser), routed as `client` is."""
    other = TestClient(client.app, **options)
    if isinstance(client._transport, _ByRole):
        other._transport = client._transport
    return other


def app_for(client: TestClient, method: str, path: str) -> FastAPI:
    """The app a request reaches (for a test that drives an app's ASGI interface itself)."""
    transport = client._transport
    if isinstance(transport, _ByRole) and transport.goes_to_ingest(method, path):
        return transport.ingest_app
    app: FastAPI = client.app  # type: ignore[assignment]
    return app


def openapi_of(client: TestClient) -> dict[str, Any]:
    """The OpenAPI document a client's requests see: on the distributed
    backend each role documents its own routes, and the client sees both
    (each path's methods from both; what the two both hold must be the same)."""
    if not isinstance(client._transport, _ByRole):
        r = client.get("/openapi.json")
        assert r.status_code == 200, r.text
        whole: dict[str, Any] = r.json()
        return whole
    merged: dict[str, Any] = {}
    for doc in (app.openapi() for app in apps_of(client)):
        for key, value in doc.items():
            if key not in ("paths", "components"):
                merged.setdefault(key, value)
                continue
            # A path's methods (a school's PUT on ingest, its GET on query), a kind's components.
            for name, part in value.items():
                into = merged.setdefault(key, {}).setdefault(name, {})
                for inner, item in part.items():
                    assert into.get(inner, item) == item, f"{key} {name} {inner} differs between the roles"
                    into[inner] = item
    return merged


def _serves(app: FastAPI, method: str, path: str) -> bool:
    """Whether one of the app's routes has this path (for any method: a
    proxy routes by path and lets the role answer 405 for the wrong method)."""
    scope = {"type": "http", "method": method, "path": path, "root_path": ""}
    return any(route.matches(scope)[0] is not Match.NONE for route in app.routes)


class _ByRole(httpx.BaseTransport):
    """Sends each request to the role that serves it (the module's docstring)."""

    def __init__(self, ingest_app: FastAPI, ingest: httpx.BaseTransport, query: httpx.BaseTransport) -> None:
        self.ingest_app = ingest_app
        self.ingest = ingest
        self.query = query

    def goes_to_ingest(self, method: str, path: str) -> bool:
        method = method.upper()
        return method not in READ_METHODS and _serves(self.ingest_app, method, path)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.goes_to_ingest(request.method, request.url.path):
            return self.ingest.handle_request(request)
        return self.query.handle_request(request)

    def close(self) -> None:
        self.ingest.close()
        self.query.close()


@contextlib.contextmanager
def distributed_client(settings: Settings) -> Iterator[TestClient]:
    """A client over the four roles (the module's docstring), started in the
    order a deployment starts them and stopped in reverse."""
    with contextlib.ExitStack() as stack:
        for role in WORKER_ROLES:
            stack.enter_context(TestClient(create_app(settings, role)))
        ingest_app = create_app(settings, "ingest")
        ingest = stack.enter_context(TestClient(ingest_app))
        query = stack.enter_context(TestClient(create_app(settings, "query")))
        query._transport = _ByRole(ingest_app, ingest._transport, query._transport)
        yield query
