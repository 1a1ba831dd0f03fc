"""Access records (issue 11, CONTRACT.md §2 and §3): every read of a student's
records leaves an entry in the trust store's access log, refusals too, and
`GET /v1/students/{id}/access-log` shows them to admins and auditors, oldest
first, a page at a time; nothing rewrites it. On both stores. The writer
(batches, close, retries): test_access_log_writer.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError

from infra.trust import access_log
from tests.conftest import AUTH
from tests.helpers import attempt, ledger_of, new_id, post, projected, seed_roster

MASTERY = "GET /v1/students/{student_id}/mastery"
LOG = "GET /v1/students/{student_id}/access-log"


@dataclass
class World:
    client: TestClient
    tokens: dict[str, tuple[str, dict[str, str]]]  # role -> (token id, headers)

    def get(self, who: str, url: str, **params: Any) -> int:
        status: int = self.client.get(url, params=params, headers=self.tokens[who][1]).status_code
        return status

    def id_of(self, who: str) -> str:
        return self.tokens[who][0]


def _benchmark(student: str, objective: str, correct: int, total: int) -> dict[str, Any]:
    return {
        "event_id": new_id(),
        "type": "benchmark",
        "student_id": student,
        "occurred_at": "2026-09-10T09:00:00Z",
        "benchmark_id": "interim-1",
        "name": "Interim 1",
        "results": [{"objective_id": objective, "correct": correct, "total": total}],
    }


@pytest.fixture
def world(client: TestClient) -> World:
    """Class c1 (s1, s2, s3) at sch1, class c9 (s9) at sch9. s1 mastered o1 and
    a benchmark contradicts it; s2 missed o1; s3 has no records."""
    seed_roster(client, students=("s1", "s2", "s3"))
    seed_roster(client, students=("s9",), school="sch9", class_id="c9")
    events = [
        attempt("s1", correct=10, at="2026-09-01T09:00:00Z"),
        attempt("s2", correct=5, at="2026-09-01T09:00:00Z"),
        attempt("s9", correct=5, at="2026-09-01T09:00:00Z"),
        _benchmark("s1", "o1", 4, 10),
    ]
    assert projected(ledger_of(client), post(client, *events)["position"])
    ledger = ledger_of(client)
    tokens = {"admin": ("bootstrap", AUTH)}
    for role, scopes, name in [
        ("teacher", ["class:c1"], "Ms Rivera"),
        ("auditor", [], "District auditor"),
        ("analyst", [], "Data team"),
        ("guardian", ["student:s1"], "Parent of s1"),
    ]:
        token = ledger.tokens.create(role, scopes, name)
        token_id = next(t.token_id for t in ledger.tokens.list() if t.name == name)
        tokens[role] = (token_id, {"Authorization": f"Bearer {token}"})
    return World(client, tokens)


def _log(w: World, student: str, who: str = "auditor", **params: Any) -> dict[str, Any]:
    r = w.client.get(f"/v1/students/{student}/access-log", params=params, headers=w.tokens[who][1])
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _entries(w: World, student: str) -> list[tuple[str, str, str, str, int]]:
    """(token id, token name, role, endpoint, status) of each entry but the log's own reads."""
    entries = _log(w, student, limit=1000)["entries"]
    return [
        (e["token_id"], e["token_name"], e["role"], e["endpoint"], e["status"])
        for e in entries
        if e["endpoint"] != LOG
    ]


def all_rows(trust: Engine) -> list[tuple[str, str, int]]:
    a = access_log.c
    with trust.connect() as conn:
        return [tuple(r) for r in conn.execute(select(a.student_id, a.endpoint, a.status).order_by(a.id))]


def test_each_read_of_a_student_is_recorded_with_who_what_and_status(world: World) -> None:
    w, teacher = world, ("Ms Rivera", "teacher")
    at = "2026-09-05T00:00:00Z"
    assert w.get("teacher", "/v1/students/s1/mastery") == 200
    assert w.get("teacher", "/v1/students/s1/mastery", as_of=at) == 200
    assert w.get("teacher", "/v1/students/s1/mastery", known_at=datetime.now(UTC).isoformat()) == 200
    assert w.get("teacher", "/v1/students/s1/objectives/o1/explain") == 200
    assert w.get("teacher", "/v1/students/s1/history") == 200
    assert w.get("teacher", "/v1/students/s1/trajectory") == 200
    assert w.get("guardian", "/v1/students/s1/mastery") == 200
    tid = w.id_of("teacher")
    assert _entries(w, "s1") == [
        (tid, *teacher, MASTERY, 200),
        (tid, *teacher, MASTERY, 200),
        (tid, *teacher, MASTERY, 200),
        (tid, *teacher, "GET /v1/students/{student_id}/objectives/{objective_id}/explain", 200),
        (tid, *teacher, "GET /v1/students/{student_id}/history", 200),
        (tid, *teacher, "GET /v1/students/{student_id}/trajectory", 200),
        (w.id_of("guardian"), "Parent of s1", "guardian", MASTERY, 200),
    ]
    assert _entries(w, "s2") == []  # nobody read s2
    entry = _log(w, "s1")["entries"][0]
    assert set(entry) == {"id", "at", "token_id", "token_name", "role", "endpoint", "status"}
    at_ = datetime.fromisoformat(entry["at"])
    assert at_.utcoffset() == timedelta(0) and abs(datetime.now(UTC) - at_) < timedelta(minutes=5)


def test_refusals_are_recorded_but_requests_without_a_valid_token_are_not(world: World) -> None:
    w = world
    assert w.get("teacher", "/v1/students/s9/mastery") == 404  # out of its scope
    assert w.get("guardian", "/v1/students/s9/history") == 404
    assert w.get("analyst", "/v1/students/s9/mastery") == 403  # the role reads no student
    assert w.get("admin", "/v1/students/s9/mastery", as_of="yesterday") == 422
    assert w.get("admin", "/v1/students/s9/mastery", min_position=10**12) == 503  # after 5 s
    assert w.get("admin", "/v1/students/s9/mastery", asof="2026-09-01") == 422  # refused before: no entry
    assert w.client.get("/v1/students/s9/mastery", headers={"Authorization": ""}).status_code == 401
    bad = w.client.get("/v1/students/s9/mastery", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    assert _entries(w, "s9") == [
        (w.id_of("teacher"), "Ms Rivera", "teacher", MASTERY, 404),
        (w.id_of("guardian"), "Parent of s1", "guardian", "GET /v1/students/{student_id}/history", 404),
        (w.id_of("analyst"), "Data team", "analyst", MASTERY, 403),
        ("bootstrap", "bootstrap", "admin", MASTERY, 422),
        ("bootstrap", "bootstrap", "admin", MASTERY, 503),
    ]


def test_class_reads_name_each_student_of_their_answer(world: World) -> None:
    w, tid = world, world.id_of("teacher")
    assert w.get("teacher", "/v1/classes/c1/mastery-map") == 200
    assert w.get("teacher", "/v1/classes/c1/next") == 200
    # Groups: s2 to re-teach; s1 mastered, but a benchmark disagrees, so no tutor; s3 has no evidence.
    assert w.get("teacher", "/v1/classes/c1/groups") == 200
    assert w.get("teacher", "/v1/classes/c9/mastery-map") == 404  # names no one: nothing to record
    assert w.get("teacher", "/v1/contradictions", class_id="c1") == 200  # s1's benchmark only
    mine = ("Ms Rivera", "teacher")
    classes = "GET /v1/classes/{class_id}"
    both = [(tid, *mine, f"{classes}/{p}", 200) for p in ("mastery-map", "next")]
    assert _entries(w, "s1") == [*both, (tid, *mine, "GET /v1/contradictions", 200)]
    assert _entries(w, "s2") == [*both, (tid, *mine, f"{classes}/groups", 200)]
    assert _entries(w, "s3") == both
    assert _entries(w, "s9") == []
    assert w.get("admin", "/v1/contradictions", school_id="sch1") == 200
    assert _entries(w, "s1")[-1] == ("bootstrap", "bootstrap", "admin", "GET /v1/contradictions", 200)


def test_roster_reads_that_name_students_are_recorded(world: World) -> None:
    """A profile is a student's record; a class with its members names each."""
    w, tid, mine = world, world.id_of("teacher"), ("Ms Rivera", "teacher")
    assert w.get("teacher", "/v1/students/s1") == 200
    assert w.get("teacher", "/v1/classes/c1") == 200
    assert w.get("teacher", "/v1/classes") == 200  # classes without their members: names no one
    profile, members = (tid, *mine, "GET /v1/students/{student_id}", 200), (
        tid,
        *mine,
        "GET /v1/classes/{class_id}",
        200,
    )
    assert _entries(w, "s1") == [profile, members]
    assert _entries(w, "s2") == [members]


def test_an_export_that_names_students_records_each_and_a_pseudonymised_one_none(world: World) -> None:
    w = world
    trust = ledger_of(w.client).trust
    pseudonymised = {"pseudonymise": "true"}
    for who, params in [("analyst", {}), ("admin", pseudonymised), ("auditor", pseudonymised)]:
        assert w.get(who, "/v1/export", kind="events", **params) == 200
        assert w.get(who, "/v1/export", kind="mastery", format="csv", **params) == 200
    ledger_of(w.client).access.flush()
    assert all_rows(trust) == []
    assert w.get("auditor", "/v1/export", kind="events", format="parquet") == 200
    assert w.get("admin", "/v1/export", kind="mastery") == 200
    export = "GET /v1/export"
    for student in ("s1", "s2", "s9"):  # each once per export; s3 has no rows in either
        assert _entries(w, student) == [
            (w.id_of("auditor"), "District auditor", "auditor", export, 200),
            ("bootstrap", "bootstrap", "admin", export, 200),
        ], student
    assert _entries(w, "s3") == []


def test_the_log_is_for_admins_and_auditors_and_its_reads_are_recorded_too(world: World) -> None:
    w = world
    assert w.get("teacher", "/v1/students/s1/mastery") == 200
    for who in ("teacher", "guardian", "analyst"):
        r = w.client.get("/v1/students/s1/access-log", headers=w.tokens[who][1])
        unknown = w.client.get("/v1/students/nobody/access-log", headers=w.tokens[who][1])
        assert (r.status_code, r.json()["detail"]) == (404, "no student 's1'"), who
        assert (unknown.status_code, unknown.json()["detail"]) == (404, "no student 'nobody'")
    first = _log(w, "s1", who="admin")
    # The mastery read just before is there: the log shows what was recorded up to the request.
    assert (first["entries"][0]["role"], first["entries"][0]["endpoint"]) == ("teacher", MASTERY)
    second = _log(w, "s1")
    seen = [(e["role"], e["endpoint"], e["status"]) for e in second["entries"]]
    assert seen == [
        ("teacher", MASTERY, 200),
        ("teacher", LOG, 404),
        ("guardian", LOG, 404),
        ("analyst", LOG, 404),
        ("admin", LOG, 200),
    ]
    assert second["student_id"] == "s1" and second["next"] is None


def test_the_log_pages_oldest_first_with_a_cursor(world: World) -> None:
    w = world
    for _ in range(5):
        assert w.get("teacher", "/v1/students/s2/mastery") == 200
    page = _log(w, "s2", limit=2)
    ids = [e["id"] for e in page["entries"]]
    assert len(ids) == 2 and ids == sorted(ids) and page["next"] == ids[-1]
    rest = _log(w, "s2", after=page["next"], limit=1000)
    assert [e["endpoint"] for e in rest["entries"]] == [MASTERY] * 3 + [LOG]  # the first page's read
    assert rest["next"] is None and min(e["id"] for e in rest["entries"]) > ids[-1]
    last = rest["entries"][-1]["id"]
    assert _log(w, "s2", after=last)["entries"][0]["endpoint"] == LOG  # only what came since
    for bad in ({"limit": 1001}, {"limit": 0}, {"after": -1}, {"cursor": 3}):
        r = w.client.get("/v1/students/s2/access-log", params=bad, headers=w.tokens["auditor"][1])
        assert r.status_code == 422, bad
        assert r.headers["content-type"] == "application/problem+json"


def test_no_route_writes_the_log_and_the_store_refuses_changes(world: World) -> None:
    w = world
    routes = w.client.app.openapi()["paths"]  # type: ignore[attr-defined]
    assert set(routes["/v1/students/{student_id}/access-log"]) == {"get"}
    for method in ("put", "post", "patch", "delete"):
        r = w.client.request(method, "/v1/students/s1/access-log", json={})
        assert r.status_code == 405, method
    assert w.get("teacher", "/v1/students/s1/mastery") == 200
    trust = ledger_of(w.client).trust
    ledger_of(w.client).access.flush()
    for statement in (access_log.update().values(status=200), access_log.delete()):
        with pytest.raises(DBAPIError, match="append-only"), trust.begin() as conn:
            conn.execute(statement)
    assert all_rows(trust) == [("s1", MASTERY, 200)]
