"""Round trips of the OneRoster import (issue 13, Tests): import the spec-shaped
files of tests/fixtures/oneroster (a zip over HTTP, a folder as the command
reads it), export `kind=roster`, and compare with what the source files say,
read here on their own with the csv module (schools, students, classes with
their courses, enrolments); then a delta on top. Also the class's OneRoster
course in GET /v1/classes[/{id}] and in the export's class_course_ids."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq  # type: ignore[import-untyped]
from fastapi.testclient import TestClient

from tests.helpers import RULE_9_OF_10, attempt, ledger_of, post
from tests.integration.oneroster_support import BULK, DELTA, ZIP, run, zipped

Model = dict[str, Any]


def _read(folder: Path, name: str) -> list[dict[str, str]]:
    path = folder / f"{name}.csv"
    return list(csv.DictReader(path.open(encoding="utf-8"))) if path.exists() else []


def _live(row: dict[str, str]) -> bool:
    return row["status"] != "tobedeleted"


def source_model(*folders: Path) -> Model:
    """The roster the files describe, bulk first and deltas after, as docs/imports.md maps it."""
    m: Model = {"schools": {}, "students": {}, "courses": {}, "classes": {}, "members": set()}
    for folder in folders:
        for org in _read(folder, "orgs"):
            if org["type"] == "school":
                m["schools"][org["sourcedId"]] = org["name"]
        roles = {r["userSourcedId"]: r for r in _read(folder, "roles") if r["role"] == "student"}
        for user in _read(folder, "users"):
            sid = user["sourcedId"]
            if sid in roles and _live(user):
                grade = user["grades"].split(",")[0].lstrip("0") or "0"
                name = f"{user['givenName']} {user['familyName']}"
                m["students"][sid] = (name, grade, roles[sid]["orgSourcedId"])
            elif sid in m["students"]:
                # Removed: the profile stays, it leaves every class.
                m["members"] = {(c, s) for c, s in m["members"] if s != sid}
        for course in _read(folder, "courses"):
            m["courses"][course["sourcedId"]] = (course["title"], course["courseCode"])
        for cls in _read(folder, "classes"):
            m["classes"][cls["sourcedId"]] = (cls["title"], cls["schoolSourcedId"], cls["courseSourcedId"])
        for e in _read(folder, "enrollments"):
            if e["role"] == "student":
                pair = (e["classSourcedId"], e["userSourcedId"])
                m["members"] = m["members"] | {pair} if _live(e) else m["members"] - {pair}
    return m


def expected_roster(m: Model) -> dict[str, tuple[Any, ...]]:
    out = {}
    for sid, (name, grade, school) in m["students"].items():
        ids = sorted(c for c, s in m["members"] if s == sid)
        courses = [m["classes"][c][2] for c in ids]
        out[sid] = (
            name,
            grade,
            school,
            m["schools"][school],
            ids,
            [m["classes"][c][0] for c in ids],
            courses,
            [m["courses"][k][0] for k in courses],
        )
    return out


def exported_roster(rows: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    cols = ("name", "grade", "school_id", "school_name", "class_ids", "class_names")
    lists = ("class_course_ids", "class_course_titles")
    return {r["student_id"]: tuple(r[c] for c in cols + lists) for r in rows}


def _export(c: TestClient, kind: str, fmt: str, position: int) -> bytes:
    r = c.get("/v1/export", params={"kind": kind, "format": fmt, "min_position": position})
    assert r.status_code == 200, r.text
    body: bytes = r.content
    return body


def _ndjson(c: TestClient, kind: str, position: int) -> list[dict[str, Any]]:
    return [json.loads(line) for line in _export(c, kind, "ndjson", position).splitlines()]


def test_a_zip_imported_over_http_exports_as_its_files_say(client: TestClient) -> None:
    r = client.post("/v1/imports/oneroster", content=zipped(BULK), headers=ZIP)
    assert r.status_code == 200, r.text
    position = r.json()["position"]
    want = expected_roster(source_model(BULK))
    assert len(want) == 5
    assert exported_roster(_ndjson(client, "roster", position)) == want
    parquet = pq.read_table(io.BytesIO(_export(client, "roster", "parquet", position))).to_pylist()
    assert exported_roster(parquet) == want
    table = csv.DictReader(io.StringIO(_export(client, "roster", "csv", position).decode()))
    split = [{k: v.split(";") if k.startswith("class_") else v for k, v in row.items()} for row in table]
    assert exported_roster(split) == want


def test_a_folder_then_a_delta_export_as_the_files_say(client: TestClient) -> None:
    ledger = ledger_of(client)
    run(ledger, BULK)
    position = ledger.store.head_position()
    assert exported_roster(_ndjson(client, "roster", position)) == expected_roster(source_model(BULK))
    run(ledger, DELTA)
    position = ledger.store.head_position()
    want = expected_roster(source_model(BULK, DELTA))
    assert want["stu-dev"][4] == [] and "stu-finn" in want  # the delta removes one and adds one
    assert exported_roster(_ndjson(client, "roster", position)) == want


def test_classes_show_their_course_in_reads_and_exports(client: TestClient) -> None:
    ledger = ledger_of(client)
    run(ledger, BULK)
    m = source_model(BULK)
    r = client.get("/v1/classes", params={"min_position": ledger.store.head_position()})
    assert r.status_code == 200, r.text
    listed = {c["class_id"]: c["course"] for c in r.json()["classes"]}
    want = {
        cid: {"course_id": k, "title": m["courses"][k][0], "code": m["courses"][k][1]}
        for cid, (_, _, k) in m["classes"].items()
    }
    assert listed == want
    one = client.get("/v1/classes/cls-read3-hr").json()
    assert one["course"] == {"course_id": "crs-read3", "title": "Reading 3", "code": "READ3"}
    assert [s["student_id"] for s in one["students"]] == ["stu-emma"]
    # A class given no course (PUT /v1/classes carries none) shows null, in reads and exports.
    body = {"name": "Advisory", "school_id": "sch-lincoln", "teacher_ids": [], "student_ids": ["stu-ana"]}
    assert client.put("/v1/classes/adv-1", json=body).status_code == 201
    objective = {
        "statement": "Ratios",
        "subject": "math",
        "course": "MATH7",
        "unit": "u1",
        "rule": RULE_9_OF_10,
    }
    assert client.put("/v1/objectives/o1", json=objective).status_code == 201
    position = post(client, attempt("stu-ana", objective="o1"))["position"]
    assert client.get("/v1/classes/adv-1", params={"min_position": position}).json()["course"] is None
    for kind in ("events", "mastery"):
        (row,) = _ndjson(client, kind, position)
        assert row["class_ids"] == ["adv-1", "cls-math7-p1", "cls-sci7-p3"], kind
        assert row["class_course_ids"] == [None, "crs-math7", "crs-sci7"], kind
        assert row["course"] == "MATH7", kind  # the objective's, from the catalog
    (ana,) = [r for r in _ndjson(client, "roster", position) if r["student_id"] == "stu-ana"]
    assert ana["class_course_titles"] == [None, "Mathematics 7", "Life Science 7"]
    csv_row = next(csv.DictReader(io.StringIO(_export(client, "events", "csv", position).decode())))
    assert csv_row["class_course_ids"] == ";crs-math7;crs-sci7"  # null items are empty
