"""How the export-column tests read an export of the world
(tests/integration/export_world.py): the body, NDJSON rows, a refusal, an
analyst's header, the rows of one event, the roster by student, and the
Arrow type of each column kind."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
from fastapi.testclient import TestClient

from tests.helpers import ledger_of
from tests.integration.export_world import World

ARROW = {
    "int": pa.int64(),
    "str": pa.string(),
    "ts": pa.timestamp("us", tz="UTC"),
    "bool": pa.bool_(),
    "float": pa.float64(),
    "list": pa.list_(pa.string()),
}


def export_body(
    c: TestClient,
    kind: str,
    fmt: str = "ndjson",
    *,
    headers: dict[str, str] | None = None,
    window: dict[str, str] | None = None,
    **q: str,
) -> bytes:
    params = {"kind": kind, "format": fmt, **(window or {}), **q}
    r = c.get("/v1/export", params=params, headers=headers or {})
    assert r.status_code == 200, r.text
    body: bytes = r.content
    return body


def export_rows(
    c: TestClient,
    kind: str,
    *,
    headers: dict[str, str] | None = None,
    window: dict[str, str] | None = None,
    **q: str,
) -> list[dict[str, Any]]:
    """`window`: `from` and `to` (`from` is no Python keyword argument)."""
    return [
        json.loads(line) for line in export_body(c, kind, headers=headers, window=window, **q).splitlines()
    ]


def refused_export(c: TestClient, status: int, **q: Any) -> list[dict[str, Any]]:
    r = c.get("/v1/export", params=q)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    errors: list[dict[str, Any]] = r.json().get("errors") or []
    return errors


def analyst_header(c: TestClient) -> dict[str, str]:
    token = ledger_of(c).tokens.create("analyst", [], "data team")
    return {"Authorization": f"Bearer {token}"}


def rows_of_event(rows: list[dict[str, Any]], w: World, name: str) -> list[dict[str, Any]]:
    return [r for r in rows if r["event_id"] == w.events[name]["event_id"]]


def roster_by_student(rows: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    return {
        r["student_id"]: (
            r["name"],
            r["grade"],
            r["school_id"],
            r["school_name"],
            r["class_ids"],
            r["class_names"],
        )
        for r in rows
    }
