"""The leader role (issue 11): a principal reads everything of its schools'
students and classes, whoever sits in a class of its school, and writes nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from services.bootstrap import Ledger
from tests.helpers import attempt, post, projected, seed_roster


def _as_leader(c: TestClient, *schools: str) -> dict[str, str]:
    ledger: Ledger = c.app.state.ledger  # type: ignore[attr-defined]
    token = ledger.tokens.create("leader", [f"school:{s}" for s in schools], "principal")
    return {"Authorization": f"Bearer {token}"}


def test_a_leader_reads_its_schools_students_and_classes(client: TestClient) -> None:
    # s3 is registered at sch2 but sits in c1, a class of sch1.
    seed_roster(client, students=("s2", "s3"), school="sch2", class_id="c2")
    seed_roster(client, students=("s1",), school="sch1", class_id=None)
    body = {"name": "7B", "school_id": "sch1", "teacher_ids": ["t1"], "student_ids": ["s1", "s3"]}
    assert client.put("/v1/classes/c1", json=body).status_code == 201
    position = post(client, *(attempt(s) for s in ("s1", "s2", "s3")))["position"]
    ledger: Ledger = client.app.state.ledger  # type: ignore[attr-defined]
    assert projected(ledger, position)

    lincoln = _as_leader(client, "sch1")
    read = {
        s: client.get(f"/v1/students/{s}/mastery", headers=lincoln).status_code for s in ("s1", "s2", "s3")
    }
    assert read == {"s1": 200, "s2": 404, "s3": 200}
    in_c1 = client.get("/v1/classes/c1/mastery-map", headers=lincoln).json()["students"]
    assert [row["student_id"] for row in in_c1] == ["s1", "s3"]
    assert client.get("/v1/classes/c2/next", headers=lincoln).status_code == 404
    assert client.get("/v1/schools/sch1/summary", headers=lincoln).status_code == 200
    assert client.get("/v1/schools/sch2/summary", headers=lincoln).status_code == 404
    assert client.get("/v1/district/summary", headers=lincoln).status_code == 200

    both = _as_leader(client, "sch1", "sch2")
    for url in ("/v1/students/s2/history", "/v1/classes/c2/groups", "/v1/schools/sch2/summary"):
        assert client.get(url, headers=both).status_code == 200, url

    # Writes nothing, whatever it sends, and stores nothing.
    assert client.post("/v1/events", json={"events": [attempt("s1")]}, headers=both).status_code == 403
    assert client.put("/v1/schools/sch1", json={"name": "renamed"}, headers=both).status_code == 403
    assert ledger.store.head_position() == position
