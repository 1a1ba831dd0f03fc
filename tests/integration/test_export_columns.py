"""Exports data teams can use (issue 13 item 4; docs/exports.md): school,
grade, classes, curriculum and typed score columns in every format, for
events and mastery; the roster kind in every format, erased names and
pseudonymised rosters. On each backend (the other kinds, filters and
pseudonyms across kinds: test_export_kinds.py)."""

from __future__ import annotations

import csv
import io

import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest
from fastapi.testclient import TestClient

from services.export.columns import COLUMNS
from tests.helpers import ledger_of
from tests.integration.export_reads import ARROW, export_body, export_rows, roster_by_student, rows_of_event
from tests.integration.export_world import CLASSES, SCHOOLS, STUDENTS, World


def test_events_carry_roster_curriculum_and_typed_scores(client: TestClient, export_district: World) -> None:
    rows = export_rows(client, "events")
    assert [list(r) for r in rows[:1]] == [[c.name for c in COLUMNS["events"]]]
    [o1] = rows_of_event(rows, export_district, "s1_o1")
    assert (o1["school_id"], o1["grade"], o1["class_ids"]) == ("sch1", "7", ["c1", "c2"])
    assert (o1["subject"], o1["course"], o1["unit"]) == ("math", "algebra-1", "u1")
    assert (o1["correct"], o1["total"], o1["percent"], o1["rubric_level"], o1["score"]) == (
        4,
        5,
        None,
        None,
        0.8,
    )
    assert isinstance(o1["correct"], int) and isinstance(o1["score"], float)
    [o2] = rows_of_event(rows, export_district, "s1_o2")
    assert (o2["correct"], o2["percent"], o2["score"]) == (None, 85.0, 0.85) and o2["unit"] == "u2"
    # A rubric level's rank among the levels of the rule version in force when it occurred.
    [v1] = rows_of_event(rows, export_district, "s1_o3_v1")
    [v2] = rows_of_event(rows, export_district, "s1_o3_v2")
    assert (v1["rubric_level"], v1["score"]) == ("developing", pytest.approx(1 / 3))
    assert (v2["rubric_level"], v2["score"]) == ("expert", 1.0)
    assert (v1["course"], v1["subject"]) == ("writing-7", "ela")
    # A benchmark: one row per result, each with its objective and its score.
    bench = rows_of_event(rows, export_district, "s3_bench")
    assert [(r["objective_id"], r["unit"], r["correct"], r["total"], r["score"]) for r in bench] == [
        ("o1", "u1", 4, 5, 0.8),
        ("o2", "u2", 1, 4, 0.25),
    ]
    assert {r["position"] for r in bench} == {bench[0]["position"]}
    assert (bench[0]["school_id"], bench[0]["grade"], bench[0]["class_ids"]) == ("sch2", "9", ["c3"])
    [reflection] = rows_of_event(rows, export_district, "s2_reflection")
    assert reflection["objective_id"] == "o1" and reflection["class_ids"] == ["c1"]
    assert all(reflection[k] is None for k in ("correct", "total", "percent", "rubric_level", "score"))
    assert len(rows) == len(export_district.events) + 1  # the benchmark's second result

    table = list(csv.DictReader(io.StringIO(export_body(client, "events", "csv").decode())))
    assert list(table[0]) == [c.name for c in COLUMNS["events"]]
    by_id = {(r["event_id"], r["objective_id"]): r for r in table}
    o1_csv = by_id[(o1["event_id"], "o1")]
    assert (o1_csv["class_ids"], o1_csv["correct"], o1_csv["score"], o1_csv["percent"]) == (
        "c1;c2",
        "4",
        "0.8",
        "",
    )
    assert by_id[(o2["event_id"], "o2")]["percent"] == "85.0"

    pt = pq.read_table(io.BytesIO(export_body(client, "events", "parquet")))
    for col in COLUMNS["events"]:
        assert pt.schema.field(col.name).type == ARROW[col.kind], col.name
    data = {(r["event_id"], r["objective_id"]): r for r in pt.to_pylist()}
    assert data[(o1["event_id"], "o1")]["class_ids"] == ["c1", "c2"]
    assert data[(v1["event_id"], "o3")]["score"] == pytest.approx(1 / 3)
    assert data[(bench[1]["event_id"], "o2")]["score"] == 0.25


def test_mastery_rows_carry_the_same_columns(client: TestClient, export_district: World) -> None:
    rows = export_rows(client, "mastery")
    assert list(rows[0]) == [c.name for c in COLUMNS["mastery"]]
    o3 = [r for r in rows if r["objective_id"] == "o3"]
    assert [(r["rubric_level"], r["score"], r["status_after"]) for r in o3] == [
        ("developing", pytest.approx(1 / 3), "in_progress"),
        ("expert", 1.0, "mastered"),
    ]
    assert {(r["school_id"], r["grade"], tuple(r["class_ids"]), r["course"]) for r in o3} == {
        ("sch1", "7", ("c1", "c2"), "writing-7")
    }
    assert export_district.events["s3_bench"]["event_id"] not in {
        r["event_id"] for r in rows
    }  # changes no status
    pt = pq.read_table(io.BytesIO(export_body(client, "mastery", "parquet")))
    for col in COLUMNS["mastery"]:
        assert pt.schema.field(col.name).type == ARROW[col.kind], col.name
    assert pt.num_rows == len(rows)
    header = next(csv.reader(io.StringIO(export_body(client, "mastery", "csv").decode())))
    assert header == [c.name for c in COLUMNS["mastery"]]


def test_roster_round_trip_in_every_format(client: TestClient, export_district: World) -> None:
    expected = {
        sid: (
            name,
            grade,
            school,
            SCHOOLS[school],
            [cid for cid in sorted(CLASSES) if sid in CLASSES[cid][2]],
            [CLASSES[cid][0] for cid in sorted(CLASSES) if sid in CLASSES[cid][2]],
        )
        for sid, (name, grade, school) in STUDENTS.items()
    }
    assert roster_by_student(export_rows(client, "roster")) == expected
    table = list(csv.DictReader(io.StringIO(export_body(client, "roster", "csv").decode())))
    assert list(table[0]) == [c.name for c in COLUMNS["roster"]]
    split = [
        {
            **r,
            "class_ids": r["class_ids"].split(";") if r["class_ids"] else [],
            "class_names": r["class_names"].split(";") if r["class_names"] else [],
        }
        for r in table
    ]
    assert roster_by_student(split) == expected
    pt = pq.read_table(io.BytesIO(export_body(client, "roster", "parquet")))
    for col in COLUMNS["roster"]:
        assert pt.schema.field(col.name).type == ARROW[col.kind], col.name
    assert roster_by_student(pt.to_pylist()) == expected
    assert roster_by_student(export_rows(client, "roster", school_id="sch2")) == {"s3": expected["s3"]}


def test_erased_names_and_pseudonymised_rosters(client: TestClient, export_district: World) -> None:
    ledger_of(client).roster.erase_student("s2", "admin:test", "request 42")
    rows = {r["student_id"]: r for r in export_rows(client, "roster")}
    assert rows["s2"]["name"] == "[erased]" and rows["s1"]["name"] == "Ana Lima"
    assert rows["s2"]["class_ids"] == ["c1"]  # the roster stays; only the name goes
    hidden = export_body(client, "roster", "csv", pseudonymise="true")
    for name, _, _ in STUDENTS.values():
        assert name.encode() not in hidden
    pseudo = list(csv.DictReader(io.StringIO(hidden.decode())))
    assert {r["name"] for r in pseudo} == {""} and len(pseudo) == len(STUDENTS)
