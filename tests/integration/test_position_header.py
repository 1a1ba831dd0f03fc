"""Every read answers with X-Projection-Position (CONTRACT.md §2, Reading),
whichever way it writes its body: each GET under /v1 the app serves, found in
its OpenAPI document so that a new endpoint is held to it too."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.helpers import attempt, post, seed_roster

PATH_VALUES = {"student_id": "s1", "class_id": "c1", "school_id": "sch1", "objective_id": "o1"}
QUERIES = {
    "/v1/contradictions": {"class_id": "c1"},
    "/v1/export": {"kind": "events", "format": "ndjson"},
}


def test_every_read_carries_the_projection_position(client: TestClient) -> None:
    seed_roster(client)
    position = post(client, attempt("s1", "o1", correct=9))["position"]
    paths = [p for p, ops in client.get("/openapi.json").json()["paths"].items() if "get" in ops]
    reads = [p for p in paths if p.startswith("/v1/")]
    assert len(reads) >= 13, reads
    for path in reads:
        url = path.format(**PATH_VALUES)
        r = client.get(url, params={"min_position": position, **QUERIES.get(path, {})})
        assert r.status_code == 200, (url, r.status_code, r.text[:200])
        assert int(r.headers["X-Projection-Position"]) >= position, url
