"""Who may write (CONTRACT.md §3): a known token; not the reading roles, even
for an invalid body (403 before the body is read); a student only
reflections on its own attempts; a teacher only for its classes' students.
A refusal stores nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.helpers import attempt, ledger_of, post
from tests.integration.bad_input_support import assert_problem, reflection, stored


def test_writing_needs_a_known_token(seeded: TestClient) -> None:
    before = stored(seeded)
    batch = {"events": [attempt()]}
    for header in ({"Authorization": ""}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eDp5"}):
        r = seeded.post("/v1/events", json=batch, headers=header)
        assert_problem(r, 401)
        assert r.headers["www-authenticate"] == "Bearer"
    tokens = ledger_of(seeded).tokens
    revoked = tokens.create("admin", [], "gone")
    principal = tokens.authenticate(revoked)
    assert principal is not None and tokens.revoke(principal.token_id)
    assert_problem(seeded.post("/v1/events", json=batch, headers={"Authorization": f"Bearer {revoked}"}), 401)
    assert stored(seeded) == before


@pytest.mark.parametrize("role", ["auditor", "analyst", "guardian"])
def test_roles_that_may_not_write_get_403(seeded: TestClient, role: str) -> None:
    token = ledger_of(seeded).tokens.create(role, ["student:s1"] if role == "guardian" else [], role)
    before = stored(seeded)
    r = seeded.post("/v1/events", json={"events": [attempt()]}, headers={"Authorization": f"Bearer {token}"})
    assert_problem(r, 403)
    assert stored(seeded) == before


@pytest.mark.parametrize("role", ["auditor", "analyst"])
def test_a_role_that_may_not_write_gets_403_even_for_an_invalid_body(seeded: TestClient, role: str) -> None:
    token = ledger_of(seeded).tokens.create(role, [], role)
    r = seeded.post("/v1/events", json={"events": []}, headers={"Authorization": f"Bearer {token}"})
    assert_problem(r, 403)
    r = seeded.put("/v1/schools/x", json={}, headers={"Authorization": f"Bearer {token}"})
    assert_problem(r, 403)


def test_student_may_post_only_reflections_on_its_own_attempts(seeded: TestClient) -> None:
    mine, theirs = attempt(), attempt(student="s2")
    post(seeded, mine, theirs)
    token = ledger_of(seeded).tokens.create("student", ["student:s1"], "s1")
    auth = {"Authorization": f"Bearer {token}"}
    before = stored(seeded)
    assert_problem(seeded.post("/v1/events", json={"events": [attempt()]}, headers=auth), 403)
    errors = assert_problem(
        seeded.post(
            "/v1/events", json={"events": [reflection(theirs["event_id"], student="s2")]}, headers=auth
        ),
        422,
    )
    assert [e["loc"] for e in errors] == [["body", "events", 0, "student_id"]]
    assert stored(seeded) == before
    r = seeded.post("/v1/events", json={"events": [reflection(mine["event_id"])]}, headers=auth)
    assert r.status_code == 200, r.text


def test_teacher_cannot_write_for_a_student_outside_its_classes(seeded: TestClient) -> None:
    r = seeded.put("/v1/classes/c2", json={"name": "8A", "school_id": "sch1", "student_ids": ["s2"]})
    assert r.status_code == 201, r.text
    # A teacher's scope is read from the enrolment read model: wait until it has the class.
    wait = seeded.get("/v1/students/s2/mastery", params={"min_position": r.json()["position"]})
    assert wait.status_code == 200, wait.text
    token = ledger_of(seeded).tokens.create("teacher", ["class:c2"], "t2")
    before = stored(seeded)
    r = seeded.post(
        "/v1/events",
        json={"events": [attempt(student="s2"), attempt(student="s1")]},
        headers={"Authorization": f"Bearer {token}"},
    )
    errors = assert_problem(r, 422)
    # Out of scope reads exactly like unknown: the message must not reveal that s1 exists.
    assert errors == [{"loc": ["body", "events", 1, "student_id"], "msg": "unknown student 's1'"}]
    assert stored(seeded) == before
