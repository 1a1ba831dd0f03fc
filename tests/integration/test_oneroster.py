"""OneRoster 1.2 CSV import (issue 13), on both stores: the fixtures under
tests/fixtures/oneroster follow the 1EdTech OneRoster 1.2 CSV binding (the
manifest's file.* modes, each file's header in the binding's order, status
blank in bulk files and active/tobedeleted with dateLastModified in delta
files, roles in roles.csv)."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from domain.ids import class_stream
from domain.roster import SchoolClass
from infra.keys import Opener
from infra.readmodels import classes, enrolments, schools, students
from services.bootstrap import Ledger
from services.cli import app
from services.imports.oneroster import ImportRefused, RosterImporter
from tests.bench_runs import run_bench
from tests.helpers import RULE_9_OF_10, attempt, ledger_of, post, use_store

FIXTURES = Path(__file__).parents[1] / "fixtures" / "oneroster"
BULK, DELTA = FIXTURES / "bulk", FIXTURES / "delta"
ZIP = {"content-type": "application/zip"}


def zipped(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(folder.iterdir()):
            z.write(f, f.name)
    return buffer.getvalue()


def run(ledger: Ledger, source: Path | bytes) -> dict[str, Any]:
    importer = RosterImporter(ledger.store, ledger.engine, ledger.keys, ledger.runner.catch_up)
    return importer.run(source).as_json()


def counts(summary: dict[str, Any]) -> dict[str, tuple[int, int, int, int]]:
    kinds = ("schools", "students", "teachers", "classes", "enrolments")
    return {k: tuple(summary[k][c] for c in ("created", "changed", "unchanged", "removed")) for k in kinds}


def roster(ledger: Ledger) -> dict[str, Any]:
    """The roster as the read models hold it, names opened."""
    ledger.runner.catch_up()  # (the `ledger` fixture runs no projections of its own)
    with ledger.engine.connect() as conn:
        school_rows = dict(conn.execute(select(schools.c.school_id, schools.c.name)).all())
        student_rows = conn.execute(select(students)).mappings().all()
        class_rows = conn.execute(select(classes)).mappings().all()
        members = conn.execute(select(enrolments.c.class_id, enrolments.c.student_id)).all()
    keys = ledger.keys.for_reading(r["student_id"] for r in student_rows)
    return {
        "schools": school_rows,
        "students": {
            r["student_id"]: (Opener(keys.get(r["student_id"])).name(r["name"]), r["grade"], r["school_id"])
            for r in student_rows
        },
        "classes": {
            r["class_id"]: (
                r["name"],
                r["school_id"],
                r["teacher_ids"],
                sorted(s for c, s in members if c == r["class_id"]),
            )
            for r in class_rows
        },
    }


BULK_ROSTER = {
    "schools": {"sch-lincoln": "Lincoln Middle School", "sch-oak": "Oak Street Elementary"},
    "students": {
        "stu-ana": ("Ana García", "7", "sch-lincoln"),
        "stu-ben": ("Ben Okafor", "7", "sch-lincoln"),
        "stu-chloe": ("Chloé Dubois", "7", "sch-lincoln"),
        "stu-dev": ("Dev Patel", "7", "sch-lincoln"),
        "stu-emma": ("Emma Lindqvist", "3", "sch-oak"),
    },
    "classes": {
        "cls-math7-p1": ("Mathematics 7 - Period 1", "sch-lincoln", ["tch-rivera"], ["stu-ana", "stu-ben"]),
        "cls-math7-p2": ("Mathematics 7 - Period 2", "sch-lincoln", ["tch-rivera"], ["stu-chloe", "stu-dev"]),
        "cls-sci7-p3": (
            "Life Science 7 - Period 3",
            "sch-lincoln",
            ["tch-chen"],
            ["stu-ana", "stu-ben", "stu-chloe", "stu-dev"],
        ),
        "cls-read3-hr": ("Room 12 Reading", "sch-oak", ["tch-brown"], ["stu-emma"]),
    },
}


def test_bulk_import_round_trips_through_the_read_models(ledger: Ledger) -> None:
    summary = run(ledger, BULK)
    assert counts(summary) == {
        "schools": (2, 0, 0, 0),
        "students": (5, 0, 0, 0),
        "teachers": (3, 0, 0, 0),
        "classes": (4, 0, 0, 0),
        "enrolments": (13, 0, 0, 0),
    }
    assert summary["ignored_users"] == 1  # the parent
    assert roster(ledger) == BULK_ROSTER
    stored: object = ledger.store.repository.get(class_stream("cls-sci7-p3"))
    assert isinstance(stored, SchoolClass)
    assert stored.course == ("crs-sci7", "Life Science 7", "SCI7")


def test_the_same_files_again_store_nothing(ledger: Ledger) -> None:
    run(ledger, BULK)
    head = ledger.store.head_position()
    again = run(ledger, zipped(BULK))  # the zip of the same folder
    assert again["events"] == 0 and ledger.store.head_position() == head
    assert counts(again) == {
        "schools": (0, 0, 2, 0),
        "students": (0, 0, 5, 0),
        "teachers": (0, 0, 3, 0),
        "classes": (0, 0, 4, 0),
        "enrolments": (0, 0, 13, 0),
    }
    run(ledger, DELTA)
    head = ledger.store.head_position()
    assert run(ledger, DELTA)["events"] == 0 and ledger.store.head_position() == head


def test_a_delta_moves_a_student_and_deletes_enrolments(client: TestClient) -> None:
    ledger = ledger_of(client)
    run(ledger, BULK)
    objective = {
        "statement": "Ratios",
        "subject": "math",
        "course": "MATH7",
        "unit": "u1",
        "rule": RULE_9_OF_10,
    }
    assert client.put("/v1/objectives/o1", json=objective).status_code == 201
    before = post(client, attempt("stu-ana", objective="o1", at="2026-09-14T09:30:00-05:00"))
    summary = run(ledger, DELTA)
    # Ana moves from period 1 to period 2; Ben's science enrolment is deleted;
    # Dev (tobedeleted) leaves both classes; Finn is new in period 2.
    assert counts(summary) == {
        "schools": (0, 0, 0, 0),
        "students": (1, 0, 0, 1),
        "teachers": (0, 0, 3, 0),
        "classes": (0, 0, 4, 0),
        "enrolments": (2, 0, 9, 4),
    }
    assert summary["files"]["users"] == "delta" and summary["files"]["orgs"] == "absent"
    after = roster(ledger)
    assert after["classes"]["cls-math7-p1"][3] == ["stu-ben"]
    assert after["classes"]["cls-math7-p2"][3] == ["stu-ana", "stu-chloe", "stu-finn"]
    assert after["classes"]["cls-sci7-p3"][3] == ["stu-ana", "stu-chloe"]
    assert after["students"]["stu-finn"] == ("Finn Murphy", "7", "sch-lincoln")
    assert after["students"]["stu-dev"] == ("Dev Patel", "7", "sch-lincoln")  # kept, with their history
    # And through the roster's read endpoints, as a teacher or a leader reads it.
    p2 = client.get("/v1/classes/cls-math7-p2").json()
    assert (p2["name"], p2["teacher_ids"]) == ("Mathematics 7 - Period 2", ["tch-rivera"])
    assert [(m["student_id"], m["name"]) for m in p2["students"]] == [
        ("stu-ana", "Ana García"),
        ("stu-chloe", "Chloé Dubois"),
        ("stu-finn", "Finn Murphy"),
    ]
    ana = client.get("/v1/students/stu-ana").json()
    assert sorted(c["class_id"] for c in ana["classes"]) == ["cls-math7-p2", "cls-sci7-p3"]
    moved = [type(e).__name__ for e in ledger.store.events.get(class_stream("cls-math7-p1"))]
    assert moved[-1] == "StudentsUnenrolled"
    # One history: Ana's attempt is hers whichever class she is in.
    history = client.get("/v1/students/stu-ana/history", params={"min_position": before["position"]})
    assert [e["event_id"] for e in history.json()["events"]] == [before["results"][0]["event_id"]]


def test_a_bulk_file_is_the_whole_of_its_kind(ledger: Ledger, tmp_path: Path) -> None:
    run(ledger, BULK)
    folder = tmp_path / "bulk"
    shutil.copytree(BULK, folder)
    _drop_lines(folder / "classes.csv", "cls-read3-hr")
    _drop_lines(folder / "enrollments.csv", "cls-read3-hr", "enr-m2-dev", "enr-s3-dev")
    _drop_lines(folder / "users.csv", "stu-dev", "stu-emma", "tch-brown")
    _drop_lines(folder / "roles.csv", "stu-dev", "stu-emma", "tch-brown")
    _rewrite(folder / "users.csv", "Ben,Okafor", "Benjamin,Okafor")
    summary = run(ledger, folder)
    assert counts(summary) == {
        "schools": (0, 0, 2, 0),
        "students": (0, 1, 2, 2),
        "teachers": (0, 0, 2, 1),
        "classes": (0, 0, 3, 1),
        "enrolments": (0, 0, 9, 4),
    }
    after = roster(ledger)
    assert after["classes"]["cls-read3-hr"][2:] == ([], [])
    assert after["students"]["stu-ben"][0] == "Benjamin Okafor"
    assert run(ledger, folder)["events"] == 0  # what was removed stays removed, once


def test_without_roles_csv_users_are_what_their_enrolments_say(ledger: Ledger, tmp_path: Path) -> None:
    """The 1.1 habit (no roles.csv): students and teachers from enrollments.csv, a
    student's school from primaryOrgSourcedId."""
    folder = tmp_path / "bulk"
    shutil.copytree(BULK, folder)
    (folder / "roles.csv").unlink()
    _rewrite(folder / "manifest.csv", "file.roles,bulk", "file.roles,absent")
    summary = run(ledger, folder)
    assert summary["ignored_users"] == 1 and summary["files"]["roles"] == "absent"
    assert roster(ledger) == BULK_ROSTER


def test_an_erased_student_is_left_as_the_erasure_left_it(ledger: Ledger, tmp_path: Path) -> None:
    run(ledger, BULK)
    ledger.roster.erase_student("stu-ben", "admin:test", "request 2026-17")
    folder = tmp_path / "bulk"
    shutil.copytree(BULK, folder)
    _rewrite(folder / "users.csv", "Ben,Okafor", "Benjamin,Okafor")
    _drop_lines(folder / "enrollments.csv", "enr-s3-ben")
    summary = run(ledger, folder)
    assert summary["erased_students"] == 1
    assert counts(summary)["students"] == (0, 0, 4, 0)  # Ben is neither changed nor unchanged: erased
    assert counts(summary)["enrolments"] == (0, 0, 12, 1)  # his enrolments are still the district's
    assert roster(ledger)["students"]["stu-ben"][0] == "[erased]"


def _drop_lines(file: Path, *needles: str) -> None:
    lines = file.read_text(encoding="utf-8").splitlines(keepends=True)
    file.write_text("".join(li for li in lines if not any(n in li for n in needles)), encoding="utf-8")


def _rewrite(file: Path, old: str, new: str) -> None:
    file.write_text(file.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def broken_bundle(tmp_path: Path) -> Path:
    folder = tmp_path / "broken"
    shutil.copytree(BULK, folder)
    _rewrite(folder / "classes.csv", "scheduled,Lab 2", "lecture,Lab 2")
    _rewrite(folder / "classes.csv", "crs-read3,READ3-HR", "crs-art3,READ3-HR")
    _rewrite(folder / "classes.csv", "Room 12 Reading", "Room 12\tReading")
    _rewrite(folder / "users.csv", "true,ben.okafor", "yes,ben.okafor")
    _rewrite(folder / "users.csv", "Emma,Lindqvist", ",Lindqvist")
    _rewrite(
        folder / "users.csv",
        "{SIS:10043},Chloé,Dubois,,10043,chloe.dubois@maple.example,,,,07",
        "{SIS:10043},Chloé,Dubois,,10043,chloe.dubois@maple.example,,,,",
    )
    _rewrite(folder / "enrollments.csv", "sch-lincoln,stu-dev,student", "sch-lincoln,stu-zed,student")
    _rewrite(folder / "enrollments.csv", "enr-r-emma,,", "enr-r-emma,tobedeleted,")
    _rewrite(
        folder / "enrollments.csv",
        "false,2026-08-17,2026-12-18\nenr-m2-rivera",
        "false,2026-02-30,2026-12-18\nenr-m2-rivera",
    )
    with (folder / "orgs.csv").open("a", encoding="utf-8") as f:
        f.write("sch-oak,,,Oak Street Annex,school,0208,dist-maple\n")
    with (folder / "academicSessions.csv").open("a", encoding="utf-8") as f:
        f.write("term-spring-2027,,,Spring 2027,term,2027-01-04\n")
    return folder  # fmt: skip


BROKEN = [  # file by file, line by line: what a district fixes its export from
    "academicSessions.csv, line 4: 6 fields where the header has 9",
    "orgs.csv, line 5, column sourcedId: 'sch-oak' is also on line 4",
    "classes.csv, line 4, column classType: 'lecture' is not one of homeroom, scheduled",
    "classes.csv, line 5, column title: holds a control character (a line break, a tab)",
    "classes.csv, line 5, column courseSourcedId: course 'crs-art3' is not in courses.csv",
    "users.csv, line 3, column enabledUser: 'yes' is not true or false",
    "users.csv, line 4, column grades: blank, but a student needs a grade in this store",
    "users.csv, line 6, column givenName: blank, but required",
    "enrollments.csv, line 4, column beginDate: '2026-02-30' is not a real date",
    "enrollments.csv, line 7, column userSourcedId: unknown user 'stu-zed'",
    "enrollments.csv, line 12, column userSourcedId: unknown user 'stu-zed'",
    "enrollments.csv, line 14, column status: a bulk file lists what exists: tobedeleted belongs in a "
    "delta file",
]


def test_a_broken_bundle_is_refused_whole_with_every_problem(ledger: Ledger, tmp_path: Path) -> None:
    head = ledger.store.head_position()
    with pytest.raises(ImportRefused) as refused:
        run(ledger, broken_bundle(tmp_path))
    assert [str(p) for p in refused.value.problems] == BROKEN
    assert ledger.store.head_position() == head  # nothing stored
    assert roster(ledger) == {"schools": {}, "students": {}, "classes": {}}


def test_the_manifest_and_headers_are_checked(ledger: Ledger, tmp_path: Path) -> None:
    folder = tmp_path / "b"
    shutil.copytree(BULK, folder)
    _rewrite(folder / "manifest.csv", "oneroster.version,1.2", "oneroster.version,1.1")
    _rewrite(folder / "manifest.csv", "file.courses,bulk", "file.courses,full")
    (folder / "academicSessions.csv").unlink()
    _rewrite(
        folder / "users.csv",
        "sourcedId,status,dateLastModified,enabledUser,username",
        "sourcedId,status,dateLastModified,enabledUser,role",
    )
    _rewrite(folder / "orgs.csv", ",identifier,", ",metadata.district.code,")  # an extension column is fine
    with pytest.raises(ImportRefused) as refused:
        run(ledger, folder)
    assert [str(p) for p in refused.value.problems] == [
        "manifest.csv, column oneroster.version: must be 1.2 (this import reads 1.2), got '1.1'",
        "manifest.csv, column file.courses: must be one of bulk, delta, absent, got 'full'",
        "manifest.csv, column file.academicSessions: says bulk, but academicSessions.csv is missing",
        "manifest.csv, column file.courses: says absent, but courses.csv is there",
        "users.csv, line 1, column role: not a column of the OneRoster 1.2 users.csv",
        "users.csv, line 1, column username: a required column is missing",
    ]  # fmt: skip


def test_cli_imports_a_zip_and_refuses_a_broken_folder(
    ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_store(monkeypatch, ledger)
    refused = CliRunner().invoke(app, ["import", "oneroster", str(broken_bundle(tmp_path))])
    assert refused.exit_code == 2
    lines = refused.stderr.strip().splitlines()
    assert lines[-1] == "mastery: 12 problem(s) in the OneRoster files; nothing was imported"
    assert all(p in lines for p in BROKEN)
    archive = tmp_path / "district.zip"
    archive.write_bytes(zipped(BULK))
    done = CliRunner().invoke(app, ["import", "oneroster", str(archive), "--json"])
    assert done.exit_code == 0, done.output
    assert '"created": 5' in done.stdout and "store:" in done.stderr


def test_http_import_answers_the_summary_or_every_problem(client: TestClient, tmp_path: Path) -> None:
    r = client.post("/v1/imports/oneroster", content=zipped(broken_bundle(tmp_path)), headers=ZIP)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    errors = r.json()["errors"]
    assert errors[1] == {"loc": ["body", "orgs.csv", 5, "sourcedId"], "msg": "'sch-oak' is also on line 4"}
    assert len(errors) == len(BROKEN)
    r = client.post("/v1/imports/oneroster", content=zipped(BULK), headers=ZIP)
    assert r.status_code == 200, r.text
    assert counts(r.json())["students"] == (5, 0, 0, 0)
    assert client.post("/v1/imports/oneroster", content=zipped(BULK), headers=ZIP).json()["events"] == 0
    r = client.post("/v1/imports/oneroster", content=b"not a zip", headers=ZIP)
    assert r.status_code == 400 and "not a folder or a zip file" in r.json()["detail"]
    r = client.post("/v1/imports/oneroster", content=zipped(BULK), headers={"content-type": "text/csv"})
    assert r.status_code == 415


def test_the_resync_bench_runs_on_both_stores(tmp_path: Path) -> None:
    """`python -m bench.oneroster --smoke`: a generated district imported, re-imported
    unchanged and with 1 % changed, on both stores (the bench's figures are its own)."""
    out = tmp_path / "smoke.json"
    runs = run_bench("bench.oneroster", "--smoke", out=out).figures["runs"]
    assert set(runs) == {"sqlite", "postgres"}
    for r in runs.values():
        assert r["first"]["summary"]["students"]["created"] == 500
        assert r["unchanged"]["events"] == 0
        changed = r["one_percent"]["summary"]
        assert r["one_percent"]["events"] > 0 and changed["students"]["changed"] == 3  # renamed or regraded
        assert changed["enrolments"]["created"] == changed["enrolments"]["removed"] > 0  # moves
