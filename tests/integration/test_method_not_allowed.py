"""A method a path does not have: 405 problem+json whose Allow names every
method the path has in this process, whichever router holds them."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from infra.settings import load_settings
from services.app import create_app


@pytest.mark.parametrize(
    ("role", "path", "allow"),
    [
        ("all", "/v1/objectives/o1", "GET, PUT"),  # PUT in the ingest router, GET in the query one
        ("all", "/v1/students/s1/mastery", "GET"),
        ("all", "/v1/students/s1", "GET, PUT"),  # the profile read back (issue 13) beside its PUT
        ("ingest", "/v1/students/s1", "PUT"),
        ("all", "/v1/events", "POST"),
        ("ingest", "/v1/objectives/o1", "PUT"),
        ("query", "/v1/objectives/o1", "GET"),
    ],
)
def test_405_names_every_method_of_the_path(tmp_path: Path, role: str, path: str, allow: str) -> None:
    # No lifespan: routing answers 405 before anything would touch the store.
    app = create_app(load_settings(data_dir=tmp_path / "data", bootstrap_token="t"), role)
    r = TestClient(app).delete(path, headers={"Authorization": "Bearer t"})
    assert r.status_code == 405
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["allow"] == allow
    assert r.json()["title"] == "Method Not Allowed"
