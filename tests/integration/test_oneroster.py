"""OneRoster 1.2 CSV import (issue 13), on both stores: the fixtures under
tests/fixtures/oneroster follow the 1EdTech OneRoster 1.2 CSV binding (the
manifest's file.* modes, each file's header in the binding's order, status
blank in bulk files and active/tobedeleted with dateLastModified in delta
files, roles in roles.csv). What an import stores; refusals are
test_oneroster_refusals.py."""

from __future__ import annotations

import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from domain.ids import class_stream
from domain.roster import SchoolClass
from services.bootstrap import Ledger
from tests.bench_runs import run_bench
from tests.helpers import RULE_9_OF_10, attempt, ledger_of, post
from tests.integration.oneroster_support import (
    BULK,
    BULK_ROSTER,
    DELTA,
    counts,
    drop_lines,
    rewrite_in,
    roster,
    run,
    zipped,
)


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
    drop_lines(folder / "classes.csv", "cls-read3-hr")
    drop_lines(folder / "enrollments.csv", "cls-read3-hr", "enr-m2-dev", "enr-s3-dev")
    drop_lines(folder / "users.csv", "stu-dev", "stu-emma", "tch-brown")
    drop_lines(folder / "roles.csv", "stu-dev", "stu-emma", "tch-brown")
    rewrite_in(folder / "users.csv", "Ben,Okafor", "Benjamin,Okafor")
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
    rewrite_in(folder / "manifest.csv", "file.roles,bulk", "file.roles,absent")
    summary = run(ledger, folder)
    assert summary["ignored_users"] == 1 and summary["files"]["roles"] == "absent"
    assert roster(ledger) == BULK_ROSTER


def test_an_erased_student_is_left_as_the_erasure_left_it(ledger: Ledger, tmp_path: Path) -> None:
    run(ledger, BULK)
    ledger.roster.erase_student("stu-ben", "admin:test", "request 2026-17")
    folder = tmp_path / "bulk"
    shutil.copytree(BULK, folder)
    rewrite_in(folder / "users.csv", "Ben,Okafor", "Benjamin,Okafor")
    drop_lines(folder / "enrollments.csv", "enr-s3-ben")
    summary = run(ledger, folder)
    assert summary["erased_students"] == 1
    assert counts(summary)["students"] == (0, 0, 4, 0)  # Ben is neither changed nor unchanged: erased
    assert counts(summary)["enrolments"] == (0, 0, 12, 1)  # his enrolments are still the district's
    assert roster(ledger)["students"]["stu-ben"][0] == "[erased]"


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
