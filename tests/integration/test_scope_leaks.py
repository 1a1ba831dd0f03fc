"""What lies outside a caller's scope answers exactly as what does not exist
(issue 10: `/v1/contradictions?school_id=` told an out-of-scope teacher which
schools exist: 404 for an unknown school, 200 [] for another's)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.bootstrap import Ledger
from tests.helpers import projected


def _seed(c: TestClient) -> None:
    """The roster, projected: the scope checks read the read models, which a
    busy machine may not have brought up to the last PUT yet."""
    for school in ("sch1", "sch2"):
        assert c.put(f"/v1/schools/{school}", json={"name": school}).status_code == 201
    for student, school in (("s1", "sch1"), ("s2", "sch2")):
        body = {"name": student, "grade": "7", "school_id": school}
        assert c.put(f"/v1/students/{student}", json=body).status_code == 201
    for cls, school, student in (("c1", "sch1", "s1"), ("c2", "sch2", "s2")):
        klass = {"name": cls, "school_id": school, "teacher_ids": ["t"], "student_ids": [student]}
        r = c.put(f"/v1/classes/{cls}", json=klass)
        assert r.status_code == 201
    ledger: Ledger = c.app.state.ledger  # type: ignore[attr-defined]
    assert projected(ledger, r.json()["position"])


def _as(c: TestClient, *scopes: str) -> dict[str, str]:
    ledger: Ledger = c.app.state.ledger  # type: ignore[attr-defined]
    return {"Authorization": f"Bearer {ledger.tokens.create('teacher', list(scopes), 'teacher')}"}


def _answer(c: TestClient, headers: dict[str, str], param: str, value: str) -> tuple[int, str, Any]:
    r = c.get("/v1/contradictions", params={param: value}, headers=headers)
    body = r.json()
    if isinstance(body, dict) and "detail" in body:
        body["detail"] = body["detail"].replace(repr(value), "ID")
    return r.status_code, r.headers["content-type"], body


@pytest.mark.parametrize(
    ("param", "own", "others"), [("school_id", "sch1", "sch2"), ("class_id", "c1", "c2")]
)
def test_contradictions_answer_out_of_scope_as_unknown(
    client: TestClient, param: str, own: str, others: str
) -> None:
    _seed(client)
    teacher = _as(client, "class:c1")
    assert _answer(client, teacher, param, own)[:2] == (200, "application/json")
    unknown = _answer(client, teacher, param, "zz")
    assert unknown[0] == 404
    assert _answer(client, teacher, param, others) == unknown
    # A teacher whose classes are all elsewhere (or do not exist) sees no school at all.
    assert _answer(client, _as(client, "class:c9"), param, own) == unknown
    # Those who see everything still tell an unknown school from an existing one.
    assert _answer(client, {}, param, others)[0] == 200
    assert _answer(client, {}, param, "zz") == unknown
