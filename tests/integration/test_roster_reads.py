"""The roster read back (issue 13, item 3): schools, classes with their
members, a student's profile and the catalog by course and unit, in pages,
each scoped by role, on both stores. (Who gets 403 and who 404 for every
role is held by tests/integration/test_authorisation_matrix.py.)"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import RULE_9_OF_10, ledger_of, seed_roster


def _put(c: TestClient, path: str, body: dict[str, Any]) -> int:
    r = c.put(path, json=body)
    assert r.status_code in (200, 201), r.text
    position: int = r.json()["position"]
    return position


def _get(c: TestClient, path: str, position: int, token: str | None = None, **params: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = c.get(path, params={"min_position": position, **params}, headers=headers)
    assert r.status_code == 200, r.text
    assert int(r.headers["X-Projection-Position"]) >= position
    return r.json()


def _district(c: TestClient) -> int:
    """Schools sch1 (classes c1, c2) and sch2 (class c3); s1 in c1 and c2, s2 in c2, s3 in c3."""
    seed_roster(c, students=("s1", "s2"), school="sch1", class_id=None)
    seed_roster(c, students=("s3",), school="sch2", class_id=None)
    _put(c, "/v1/schools/sch2", {"name": "Garfield High"})
    _put(c, "/v1/students/s1", {"name": "Ada Byron", "grade": "7", "school_id": "sch1"})
    cls = {"name": "7A maths", "school_id": "sch1", "teacher_ids": ["t1"], "student_ids": ["s1"]}
    _put(c, "/v1/classes/c1", cls)
    _put(
        c,
        "/v1/classes/c2",
        {**cls, "name": "7 science", "teacher_ids": ["t2", "t3"], "student_ids": ["s2", "s1"]},
    )
    return _put(c, "/v1/classes/c3", {**cls, "name": "9 art", "school_id": "sch2", "student_ids": ["s3"]})


def _token(c: TestClient, role: str, *scopes: str) -> str:
    return ledger_of(c).tokens.create(role, list(scopes), f"{role} (roster reads)")


def test_schools_in_pages_and_one_by_one(client: TestClient) -> None:
    position = _district(client)
    for n in range(3, 6):
        position = _put(client, f"/v1/schools/sch{n}", {"name": f"School {n}"})
    first = _get(client, "/v1/schools", position, limit=2)
    assert first == {
        "schools": [
            {"school_id": "sch1", "name": "Lincoln Middle"},
            {"school_id": "sch2", "name": "Garfield High"},
        ],
        "next": "sch2",
    }
    second = _get(client, "/v1/schools", position, limit=2, after="sch2")
    assert [s["school_id"] for s in second["schools"]] == ["sch3", "sch4"]
    last = _get(client, "/v1/schools", position, limit=2, after=second["next"])
    assert last == {"schools": [{"school_id": "sch5", "name": "School 5"}], "next": None}
    assert _get(client, "/v1/schools", position)["next"] is None  # the default page holds them all
    assert _get(client, "/v1/schools/sch2", position) == {"school_id": "sch2", "name": "Garfield High"}
    r = client.get("/v1/schools/nowhere")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


def test_classes_by_school_and_a_class_with_its_members(client: TestClient) -> None:
    position = _district(client)
    everything = _get(client, "/v1/classes", position)
    assert [c["class_id"] for c in everything["classes"]] == ["c1", "c2", "c3"]
    in_sch1 = _get(client, "/v1/classes", position, school_id="sch1", limit=1)
    assert in_sch1 == {
        "classes": [
            {"class_id": "c1", "name": "7A maths", "school_id": "sch1", "teacher_ids": ["t1"], "course": None}
        ],
        "next": "c1",
    }
    rest = _get(client, "/v1/classes", position, school_id="sch1", after="c1", limit=1)
    assert [c["class_id"] for c in rest["classes"]] == ["c2"] and rest["next"] is None
    assert _get(client, "/v1/classes", position, school_id="nowhere") == {"classes": [], "next": None}
    assert _get(client, "/v1/classes/c2", position) == {
        "class_id": "c2",
        "name": "7 science",
        "school_id": "sch1",
        "teacher_ids": ["t2", "t3"],
        "course": None,  # PUT /v1/classes gives none (OneRoster's: test_oneroster_round_trip)
        "students": [{"student_id": "s1", "name": "Ada Byron"}, {"student_id": "s2", "name": "Student s2"}],
    }
    assert client.get("/v1/classes/nowhere").status_code == 404


def test_a_students_profile_is_what_get_answers_now(client: TestClient) -> None:
    position = _district(client)
    assert _get(client, "/v1/students/s1", position) == {
        "student_id": "s1",
        "name": "Ada Byron",
        "grade": "7",
        "school_id": "sch1",
        "classes": [{"class_id": "c1", "name": "7A maths"}, {"class_id": "c2", "name": "7 science"}],
    }
    # A teacher sees, of the student's classes, those it teaches.
    teacher = _token(client, "teacher", "class:c2")
    mine = _get(client, "/v1/students/s1", position, teacher)
    assert mine["classes"] == [{"class_id": "c2", "name": "7 science"}]
    # The student itself, and its guardian, see all of its classes.
    for role in ("student", "guardian"):
        own = _get(client, "/v1/students/s1", position, _token(client, role, "student:s1"))
        assert [c["class_id"] for c in own["classes"]] == ["c1", "c2"]
    assert client.get("/v1/students/nobody").status_code == 404


def test_after_an_erasure_the_profile_and_the_class_show_erased(client: TestClient) -> None:
    position = _district(client)
    out = ledger_of(client).roster.erase_student("s1", "admin:test", "request DPO-1")
    position = max(position, out.position)
    profile = _get(client, "/v1/students/s1", position)
    assert profile["name"] == "[erased]" and profile["grade"] == "7"  # the rest stays
    members = _get(client, "/v1/classes/c2", position)["students"]
    assert members == [{"student_id": "s1", "name": "[erased]"}, {"student_id": "s2", "name": "Student s2"}]


def test_what_each_role_lists(client: TestClient) -> None:
    position = _district(client)

    def schools(token: str) -> list[str]:
        return [s["school_id"] for s in _get(client, "/v1/schools", position, token)["schools"]]

    def classes(token: str, **params: str) -> list[str]:
        return [c["class_id"] for c in _get(client, "/v1/classes", position, token, **params)["classes"]]

    teacher = _token(client, "teacher", "class:c3")
    assert schools(teacher) == ["sch2"] and classes(teacher) == ["c3"]
    assert classes(teacher, school_id="sch1") == []  # another school's classes: none it may see
    leader = _token(client, "leader", "school:sch1")
    assert schools(leader) == ["sch1"] and classes(leader) == ["c1", "c2"]
    guardian = _token(client, "guardian", "student:s1", "student:s3")
    assert schools(guardian) == ["sch1", "sch2"]
    for role in ("analyst", "ingest", "auditor"):
        assert schools(_token(client, role)) == ["sch1", "sch2"]
    for role, scope in (("analyst", ()), ("ingest", ()), ("student", ("student:s1",))):
        r = client.get("/v1/classes", headers={"Authorization": f"Bearer {_token(client, role, *scope)}"})
        assert r.status_code == 403, (role, r.text)


def _objective(course: str, unit: str, sequence: int) -> dict[str, Any]:
    return {
        "statement": f"{course} {unit} #{sequence}",
        "subject": "math",
        "course": course,
        "unit": unit,
        "sequence": sequence,
        "rule": RULE_9_OF_10,
        "effective_from": "2026-08-01T00:00:00Z",
    }


def test_the_catalog_by_course_and_unit_in_pages(client: TestClient) -> None:
    position = 0
    # Put in an order unlike course order; sequence 10 after 9 (not as text).
    for oid, course, unit, seq in [
        ("g1", "geometry", "u1", 1),
        ("a10", "algebra-1", "u2", 10),
        ("a9", "algebra-1", "u2", 9),
        ("a1", "algebra-1", "u1", 1),
        ("a2", "algebra-1", "u1", 2),
    ]:
        position = _put(client, f"/v1/objectives/{oid}", _objective(course, unit, seq))
    whole = _get(client, "/v1/objectives", position)
    assert [o["objective_id"] for o in whole["objectives"]] == ["a1", "a2", "a9", "a10", "g1"]
    assert whole["next"] is None
    assert whole["objectives"][0]["rule_versions"][0]["effective_from"] == "2026-08-01T00:00:00Z"
    pages, after = [], None
    while True:
        params: dict[str, Any] = {"limit": 2, "course": "algebra-1", **({"after": after} if after else {})}
        page = _get(client, "/v1/objectives", position, **params)
        pages.append([o["objective_id"] for o in page["objectives"]])
        after = page["next"]
        if after is None:
            break
    assert pages == [["a1", "a2"], ["a9", "a10"]]
    unit = _get(client, "/v1/objectives", position, course="algebra-1", unit="u2")
    assert [o["objective_id"] for o in unit["objectives"]] == ["a9", "a10"]
    assert (
        _get(client, "/v1/objectives", position, unit="u1", after="a1")["objectives"][0]["objective_id"]
        == "a2"
    )
    assert _get(client, "/v1/objectives", position, course="history")["objectives"] == []


def test_bad_paging_is_refused_naming_the_parameter(client: TestClient) -> None:
    for path, params, loc in [
        ("/v1/objectives", {"after": "never-a-next"}, ["query", "after"]),
        ("/v1/objectives", {"limit": "0"}, ["query", "limit"]),
        ("/v1/schools", {"limit": "1001"}, ["query", "limit"]),
        ("/v1/classes", {"after": " c1"}, ["query", "after"]),
        ("/v1/classes", {"page": "2"}, ["query", "page"]),
    ]:
        r = client.get(path, params=params)
        assert r.status_code == 422, (path, params, r.text)
        assert [e["loc"] for e in r.json()["errors"]] == [loc], (path, r.text)
