"""Exports for the leader role (docs/exports.md, "Who may export"): a leader
reads everything of its schools' students (CONTRACT.md §3), so it exports
them, named as its reads name them, and nobody else; a school out of its
scope is an unknown school (404); the catalog is everyone's. The export_district is
tests/integration/export_world.py: s1, s2, s4 at sch1, s3 at sch2."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import ledger_of
from tests.integration import export_world
from tests.integration.export_world import STUDENTS, World


def _leader(c: TestClient, *schools: str) -> dict[str, str]:
    token = ledger_of(c).tokens.create("leader", [f"school:{s}" for s in schools], "principal")
    return {"Authorization": f"Bearer {token}"}


def _rows(c: TestClient, headers: dict[str, str], **q: str) -> list[dict[str, Any]]:
    r = c.get("/v1/export", params={"format": "ndjson", **q}, headers=headers)
    assert r.status_code == 200, r.text
    return [json.loads(line) for line in r.content.splitlines()]


def _students(rows: list[dict[str, Any]]) -> set[str]:
    return {r["student_id"] for r in rows}


def test_a_leader_exports_its_schools_students_named(client: TestClient, export_district: World) -> None:
    lincoln = _leader(client, "sch1")
    for kind in ("events", "mastery"):
        assert _students(_rows(client, lincoln, kind=kind)) == {"s1", "s2"}, kind
        # Everything of its students: the same rows as the admin's export of the school.
        assert _rows(client, lincoln, kind=kind) == _rows(client, {}, kind=kind, school_id="sch1")
    roster = {r["student_id"]: r["name"] for r in _rows(client, lincoln, kind="roster")}
    assert roster == {sid: STUDENTS[sid][0] for sid in ("s1", "s2", "s4")}  # named, as its reads name them
    assert _rows(client, lincoln, kind="roster", school_id="sch1") == _rows(client, lincoln, kind="roster")
    catalog = _rows(client, lincoln, kind="objectives")
    assert {r["objective_id"] for r in catalog} == set(export_world.OBJECTIVES)


def test_a_school_out_of_scope_is_an_unknown_school(client: TestClient, export_district: World) -> None:
    lincoln = _leader(client, "sch1")
    for school in ("sch2", "nowhere"):
        r = client.get("/v1/export", params={"kind": "events", "school_id": school}, headers=lincoln)
        assert (r.status_code, r.json()["detail"]) == (404, f"no school {school!r}")


def test_a_leader_of_two_schools_exports_both(client: TestClient, export_district: World) -> None:
    both = _leader(client, "sch1", "sch2")
    assert _students(_rows(client, both, kind="roster")) == set(STUDENTS)
    assert _students(_rows(client, both, kind="events", school_id="sch2")) == {"s3"}


def test_a_leader_may_ask_for_pseudonyms_and_its_named_export_is_in_the_access_log(
    client: TestClient, export_district: World
) -> None:
    lincoln = _leader(client, "sch1")
    hidden = _rows(client, lincoln, kind="roster", pseudonymise="true")
    assert {r["name"] for r in hidden} == {None} and not _students(hidden) & set(STUDENTS)
    log = client.get("/v1/students/s1/access-log").json()["entries"]
    assert not [e for e in log if e["role"] == "leader"]  # a pseudonymised export names no one
    _rows(client, lincoln, kind="roster")
    log = client.get("/v1/students/s1/access-log").json()["entries"]
    assert [(e["role"], e["token_name"]) for e in log if e["role"] == "leader"] == [("leader", "principal")]
    s3_log = client.get("/v1/students/s3/access-log").json()["entries"]
    assert not [e for e in s3_log if e["role"] == "leader"]  # out of its scope: not read
