"""Who may do what (CONTRACT.md §3), as one table: every role × every operation
of the OpenAPI document × in scope / out of scope / revoked token / expired
token, and every operation without a token, on each backend (issue 11).

An operation of the API without a row here fails the test, and so does a role
without a column: a new endpoint or role cannot be forgotten. One deployment per
backend is seeded once and shared by every cell (module-scoped fixture).

The seeded world: schools sch1 and sch2, each with a student (s1, s2) in a class
(c1, c2), an objective o1 and an attempt of each student. The scoped tokens hold
the first of each (class:c1, student:s1, school:sch1): "in scope" asks about
s1 / c1 / sch1, "out of scope" about s2 / c2 / sch2, and an out-of-scope answer
must be exactly the answer about an id that does not exist.
"""

from __future__ import annotations

import contextlib
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from fastapi.testclient import TestClient

from infra.settings import load_settings
from infra.tokens import ROLES
from services.app import create_app
from services.bootstrap import Ledger
from tests.conftest import AUTH, BACKENDS, BOOT
from tests.distributed import apps_of, distributed_client, kafka_settings
from tests.helpers import attempt, new_id, post, projected, seed_roster
from tests.services import fresh_postgres_database

OK = "2xx in scope and out of scope: the role sees every student"
SCOPED = "2xx in scope; out of scope 404, as an unknown id"
SCOPED_WRITE = "2xx in scope; out of scope 422 naming the student, as an unknown student"
FORBIDDEN = "403 whatever it asks about: the role may not do this at all"
OPEN = "2xx with any token or none (docs/operations.md: a probe needs no credentials)"
HIDDEN = "404 in scope and out of scope, as an unknown id: the role may not learn it exists"
LISTS = "2xx in scope and out of scope; the list holds what is in scope and leaves out the rest"

COLUMNS = ("admin", "teacher", "student", "guardian", "leader", "auditor", "analyst", "ingest")
R, S, W, F, H, L = OK, SCOPED, SCOPED_WRITE, FORBIDDEN, HIDDEN, LISTS
MATRIX: dict[tuple[str, str], tuple[str, ...]] = {
    # (method, path): the answer to (admin, teacher, student, guardian, leader, auditor, analyst, ingest)
    ("PUT", "/v1/objectives/{objective_id}"):                  (R, F, F, F, F, F, F, R),
    ("PUT", "/v1/schools/{school_id}"):                        (R, F, F, F, F, F, F, R),
    ("PUT", "/v1/students/{student_id}"):                      (R, F, F, F, F, F, F, R),
    ("PUT", "/v1/classes/{class_id}"):                         (R, F, F, F, F, F, F, R),
    ("POST", "/v1/events"):                                    (R, W, W, F, F, F, F, R),
    ("POST", "/v1/events/backfill"):                           (R, F, F, F, F, F, F, F),
    ("POST", "/v1/imports/oneroster"):                         (R, F, F, F, F, F, F, R),
    ("GET", "/v1/students/{student_id}/mastery"):              (R, S, S, S, S, R, F, F),
    ("GET", "/v1/students/{student_id}/history"):              (R, S, S, S, S, R, F, F),
    ("GET", "/v1/students/{student_id}/objectives/{objective_id}/explain"): (R, S, S, S, S, R, F, F),
    ("GET", "/v1/students/{student_id}/trajectory"):           (R, S, S, S, S, R, F, F),
    ("GET", "/v1/students/{student_id}/access-log"):           (R, H, H, H, H, R, H, H),
    ("GET", "/v1/objectives"):                                 (R, R, R, R, R, R, R, R),
    ("GET", "/v1/schools"):                                    (R, L, L, L, L, R, R, R),
    ("GET", "/v1/schools/{school_id}"):                        (R, S, S, S, S, R, R, R),
    ("GET", "/v1/classes"):                                    (R, L, F, F, L, R, F, F),
    ("GET", "/v1/classes/{class_id}"):                         (R, S, F, F, S, R, F, F),
    ("GET", "/v1/students/{student_id}"):                      (R, S, S, S, S, R, F, F),
    ("GET", "/v1/objectives/{objective_id}"):                  (R, R, R, R, R, R, R, R),
    ("GET", "/v1/classes/{class_id}/mastery-map"):             (R, S, F, F, S, R, F, F),
    ("GET", "/v1/classes/{class_id}/next"):                    (R, S, F, F, S, R, F, F),
    ("GET", "/v1/classes/{class_id}/groups"):                  (R, S, F, F, S, R, F, F),
    ("GET", "/v1/contradictions"):                             (R, S, F, F, S, R, F, F),
    ("GET", "/v1/schools/{school_id}/summary"):                (R, F, F, F, S, R, R, F),
    ("GET", "/v1/district/summary"):                           (R, F, F, F, R, R, R, F),
    ("GET", "/v1/schools/{school_id}/summary/weekly"):         (R, F, F, F, S, R, R, F),
    ("GET", "/v1/district/summary/weekly"):                    (R, F, F, F, R, R, R, F),
    ("GET", "/v1/export"):                                     (R, F, F, F, S, R, R, F),
    ("GET", "/health"):                                        (OPEN,) * 8,
    ("GET", "/ready"):                                         (OPEN,) * 8,
    ("GET", "/metrics"):                                       (OPEN,) * 8,
}  # fmt: skip
SCOPES = {
    "teacher": ["class:c1"],
    "student": ["student:s1"],
    "guardian": ["student:s1"],
    "leader": ["school:sch1"],
}


class Target(NamedTuple):
    """What a request asks about."""

    student: str
    class_id: str
    school: str


IN, OUT, UNKNOWN = Target("s1", "c1", "sch1"), Target("s2", "c2", "sch2"), Target("zz", "zz", "zz")


@dataclass
class World:
    client: TestClient
    attempts: dict[str, str]  # student -> the event id of its attempt
    tokens: dict[tuple[str, str], str]  # (role, "valid" | "revoked" | "expired") -> token


class Call(NamedTuple):
    method: str
    url: str
    params: dict[str, str] | None = None
    json: Any = None


def _reflection(w: World, t: Target) -> dict[str, Any]:
    # A reflection: the one event every role that posts may post (a student only reflects).
    on = w.attempts.get(t.student, new_id())
    event = {"event_id": new_id(), "type": "reflection", "student_id": t.student, "on_event": on}
    event |= {"occurred_at": "2026-09-15T10:00:00-05:00", "text": "I mixed up the signs"}
    return {"events": [event]}


def _student(w: World, t: Target) -> dict[str, Any]:
    return {"name": f"Student {t.student}", "grade": "7", "school_id": t.school}


def _class(w: World, t: Target) -> dict[str, Any]:
    return {"name": "7B", "school_id": t.school, "teacher_ids": ["t1"], "student_ids": [t.student]}


def _roster_zip(w: World, t: Target) -> bytes:
    """A OneRoster 1.2 delta that restates the target's enrolment: imported, it changes nothing."""
    enrolment = (
        f"e-{t.student},active,2026-09-01T00:00:00.000Z,{t.class_id},{t.school},{t.student},student,,,"
    )
    files = {
        "manifest.csv": "propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\n"
        + "".join(
            f"file.{f},absent\n" for f in ("academicSessions", "orgs", "courses", "classes", "users", "roles")
        )
        + "file.enrollments,delta\n",
        "enrollments.csv": "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,"
        f"userSourcedId,role,primary,beginDate,endDate\n{enrolment}\n",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return buffer.getvalue()


# What a request carries beyond its path, which the target fills in: the same
# bodies as the seed's, so that a write repeated by every cell changes nothing.
BODIES: dict[tuple[str, str], Callable[[World, Target], Any]] = {
    ("PUT", "/v1/objectives/{objective_id}"): lambda w, t: _objective(),
    ("PUT", "/v1/schools/{school_id}"): lambda w, t: {"name": "Lincoln Middle"},
    ("PUT", "/v1/students/{student_id}"): _student,
    ("PUT", "/v1/classes/{class_id}"): _class,
    ("POST", "/v1/events"): _reflection,
    ("POST", "/v1/events/backfill"): lambda w, t: {
        "events": [
            {"event": e, "recorded_at": "2026-09-15T11:00:00-05:00", "recorded_by": "teacher:t1"}
            for e in _reflection(w, t)["events"]
        ]
    },
    ("POST", "/v1/imports/oneroster"): _roster_zip,
}
QUERIES: dict[tuple[str, str], Callable[[Target], dict[str, str]]] = {
    ("GET", "/v1/contradictions"): lambda t: {"school_id": t.school},
    ("GET", "/v1/export"): lambda t: {"kind": "events", "school_id": t.school},  # a leader's: its school
    ("GET", "/v1/classes"): lambda t: {"school_id": t.school},
}
# A list: what it lists of a target (the ids it holds, and which of the target's is looked for).
LISTED: dict[tuple[str, str], tuple[Callable[[Any], set[str]], str]] = {
    ("GET", "/v1/schools"): (lambda body: {s["school_id"] for s in body["schools"]}, "school"),
    ("GET", "/v1/classes"): (lambda body: {c["class_id"] for c in body["classes"]}, "class_id"),
}


def _call(w: World, op: tuple[str, str], t: Target) -> Call:
    method, path = op
    url = path.format(student_id=t.student, class_id=t.class_id, school_id=t.school, objective_id="o1")
    body = BODIES.get(op)
    query = QUERIES.get(op)
    return Call(method, url, query(t) if query else None, body(w, t) if body else None)


def _objective() -> dict[str, Any]:
    rule = {"threshold": {"kind": "correct_of", "min_correct": 9, "of": 10}}
    return {
        "statement": "Objective o1",
        "subject": "math",
        "course": "algebra-1",
        "unit": "u1",
        "rule": rule,
        "effective_from": "2026-08-01T00:00:00Z",
    }


@pytest.fixture(scope="module", params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data: Path = tmp_path_factory.mktemp("matrix") / "data"
    distributed = request.param == "distributed"
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(fresh_postgres_database()) if request.param != "sqlite" else None
        kafka = kafka_settings(request.getfixturevalue("kafka_broker_bootstrap")) if distributed else {}
        settings = load_settings(data_dir=data, bootstrap_token=BOOT, database_url=url, **kafka)
        deployed = distributed_client(settings) if distributed else TestClient(create_app(settings))
        c = stack.enter_context(deployed)
        c.headers.update(AUTH)
        for n in ("1", "2"):
            seed_roster(c, students=(f"s{n}",), school=f"sch{n}", class_id=f"c{n}")
        attempts = {s: attempt(s) for s in ("s1", "s2")}
        position = post(c, *attempts.values())["position"]
        ledger: Ledger = c.app.state.ledger  # type: ignore[attr-defined]
        assert projected(ledger, position)
        del c.headers["Authorization"]  # each cell says who asks
        tokens = {}
        for role in ROLES:
            scopes = SCOPES.get(role, [])
            tokens[(role, "valid")] = ledger.tokens.create(role, scopes, f"{role} (matrix)")
            revoked = tokens[(role, "revoked")] = ledger.tokens.create(role, scopes, f"{role} (revoked)")
            assert ledger.tokens.revoke(revoked)
            gone = timedelta(seconds=-1)
            expired = ledger.tokens.create(role, scopes, f"{role} (expired)", expires_in=gone)
            tokens[(role, "expired")] = expired
        yield World(c, {s: e["event_id"] for s, e in attempts.items()}, tokens)


def _operations(w: World) -> set[tuple[str, str]]:
    apps = apps_of(w.client)  # ingest's and query's operations on the distributed backend
    return {(m.upper(), path) for app in apps for path, item in app.openapi()["paths"].items() for m in item}


def _ask(w: World, call: Call, token: str | None) -> tuple[int, str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    if isinstance(call.json, bytes):  # a zip (POST /v1/imports/oneroster)
        headers["content-type"] = "application/zip"
        r = w.client.request(call.method, call.url, params=call.params, content=call.json, headers=headers)
    else:
        r = w.client.request(call.method, call.url, params=call.params, json=call.json, headers=headers)
    kind = r.headers.get("content-type", "")
    body = r.json() if kind.startswith(("application/json", "application/problem+json")) else None
    if isinstance(body, dict):
        body.pop("request_id", None)  # every answer's own: not part of what it says
    return r.status_code, kind, body


def _as_unknown(answer: tuple[int, str, Any], t: Target) -> str:
    """An answer with the target's ids written as the unknown target's, to
    compare an out-of-scope answer with the one about ids that do not exist."""
    text = repr(answer)
    for mine, unknown in zip(t, UNKNOWN, strict=True):
        text = text.replace(repr(mine), repr(unknown)).replace(f'"{mine}"', f'"{unknown}"')
    return text


def _expected(rule: str, target: Target) -> set[int]:
    if rule in (OK, OPEN, LISTS):
        return {200, 201}
    if rule == FORBIDDEN:
        return {403}
    if rule == HIDDEN:
        return {404}
    if target is IN:
        return {200, 201}
    return {404} if rule == SCOPED else {422}


def test_every_operation_and_role_has_its_row_and_column(world: World) -> None:
    assert COLUMNS == ROLES, "a role without its column in MATRIX (or a column for no role)"
    operations = _operations(world)
    assert sorted(operations - MATRIX.keys()) == [], "operations of the API without a row in MATRIX"
    assert sorted(MATRIX.keys() - operations) == [], "rows for operations the API no longer has"


@pytest.mark.parametrize("role", COLUMNS)
def test_matrix(world: World, role: str) -> None:
    wrong = []
    for op in sorted(_operations(world) & MATRIX.keys()):
        rule = MATRIX[op][COLUMNS.index(role)]
        token = world.tokens[(role, "valid")]
        for target in (IN, OUT):
            status, kind, body = answer = _ask(world, _call(world, op, target), token)
            if status not in _expected(rule, target):
                wrong.append(f"{role} {op} {target.student}: {status} {body}, expected {rule}")
            elif status >= 400 and kind != "application/problem+json":
                wrong.append(f"{role} {op} {target.student}: {status} as {kind}")
            elif op in LISTED and rule in (OK, LISTS):
                ids, field = LISTED[op]
                # Everything listed for a role that sees all; for the others, only what is in scope.
                if (getattr(target, field) in ids(body)) != (rule == OK or target is IN):
                    wrong.append(f"{role} {op} {target}: listed {sorted(ids(body))}, expected {rule}")
            if (rule in (SCOPED, SCOPED_WRITE, LISTS) and target is OUT) or rule == HIDDEN:
                unknown = _ask(world, _call(world, op, UNKNOWN), token)
                if _as_unknown(answer, target) != repr(unknown):
                    wrong.append(f"{role} {op}: {target.student} {answer} but unknown {unknown}")
        for state in ("revoked", "expired"):
            status, kind, _ = _ask(world, _call(world, op, IN), world.tokens[(role, state)])
            if status != (200 if rule == OPEN else 401):
                wrong.append(f"{role} {op} with a {state} token: {status}")
    assert wrong == []


def test_without_a_token(world: World) -> None:
    wrong = []
    for op in sorted(_operations(world) & MATRIX.keys()):
        status, kind, body = _ask(world, _call(world, op, IN), None)
        expected = 200 if MATRIX[op] == (OPEN,) * 8 else 401
        if status != expected or (status == 401 and kind != "application/problem+json"):
            wrong.append(f"{op} without a token: {status} {kind} {body}")
    assert wrong == []
