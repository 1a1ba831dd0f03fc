"""Exports data teams can use (issue 13 item 4; docs/exports.md): school,
grade, classes, curriculum and typed score columns in every format; the
roster and objectives kinds; the filters; pseudonyms equal across kinds. On
each backend."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from infra.settings import Settings
from infra.trust import access_log
from services import cli
from services.export.columns import COLUMNS
from services.export.pseudonyms import Pseudonymiser, pseudonym_secret
from tests.helpers import ledger_of
from tests.integration import export_world
from tests.integration.export_world import CLASSES, SCHOOLS, STUDENTS, World

ARROW = {
    "int": pa.int64(),
    "str": pa.string(),
    "ts": pa.timestamp("us", tz="UTC"),
    "bool": pa.bool_(),
    "float": pa.float64(),
    "list": pa.list_(pa.string()),
}


@pytest.fixture
def world(client: TestClient) -> World:
    return export_world.build(client)


def _get(
    c: TestClient,
    kind: str,
    fmt: str = "ndjson",
    *,
    headers: dict[str, str] | None = None,
    window: dict[str, str] | None = None,
    **q: str,
) -> bytes:
    params = {"kind": kind, "format": fmt, **(window or {}), **q}
    r = c.get("/v1/export", params=params, headers=headers or {})
    assert r.status_code == 200, r.text
    body: bytes = r.content
    return body


def _rows(
    c: TestClient,
    kind: str,
    *,
    headers: dict[str, str] | None = None,
    window: dict[str, str] | None = None,
    **q: str,
) -> list[dict[str, Any]]:
    """`window`: `from` and `to` (`from` is no Python keyword argument)."""
    return [json.loads(line) for line in _get(c, kind, headers=headers, window=window, **q).splitlines()]


def _refused(c: TestClient, status: int, **q: Any) -> list[dict[str, Any]]:
    r = c.get("/v1/export", params=q)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    errors: list[dict[str, Any]] = r.json().get("errors") or []
    return errors


def _analyst(c: TestClient) -> dict[str, str]:
    token = ledger_of(c).tokens.create("analyst", [], "data team")
    return {"Authorization": f"Bearer {token}"}


def _by_event(rows: list[dict[str, Any]], w: World, name: str) -> list[dict[str, Any]]:
    return [r for r in rows if r["event_id"] == w.events[name]["event_id"]]


def test_events_carry_roster_curriculum_and_typed_scores(client: TestClient, world: World) -> None:
    rows = _rows(client, "events")
    assert [list(r) for r in rows[:1]] == [[c.name for c in COLUMNS["events"]]]
    [o1] = _by_event(rows, world, "s1_o1")
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
    [o2] = _by_event(rows, world, "s1_o2")
    assert (o2["correct"], o2["percent"], o2["score"]) == (None, 85.0, 0.85) and o2["unit"] == "u2"
    # A rubric level's rank among the levels of the rule version in force when it occurred.
    [v1] = _by_event(rows, world, "s1_o3_v1")
    [v2] = _by_event(rows, world, "s1_o3_v2")
    assert (v1["rubric_level"], v1["score"]) == ("developing", pytest.approx(1 / 3))
    assert (v2["rubric_level"], v2["score"]) == ("expert", 1.0)
    assert (v1["course"], v1["subject"]) == ("writing-7", "ela")
    # A benchmark: one row per result, each with its objective and its score.
    bench = _by_event(rows, world, "s3_bench")
    assert [(r["objective_id"], r["unit"], r["correct"], r["total"], r["score"]) for r in bench] == [
        ("o1", "u1", 4, 5, 0.8),
        ("o2", "u2", 1, 4, 0.25),
    ]
    assert {r["position"] for r in bench} == {bench[0]["position"]}
    assert (bench[0]["school_id"], bench[0]["grade"], bench[0]["class_ids"]) == ("sch2", "9", ["c3"])
    [reflection] = _by_event(rows, world, "s2_reflection")
    assert reflection["objective_id"] == "o1" and reflection["class_ids"] == ["c1"]
    assert all(reflection[k] is None for k in ("correct", "total", "percent", "rubric_level", "score"))
    assert len(rows) == len(world.events) + 1  # the benchmark's second result

    table = list(csv.DictReader(io.StringIO(_get(client, "events", "csv").decode())))
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

    pt = pq.read_table(io.BytesIO(_get(client, "events", "parquet")))
    for col in COLUMNS["events"]:
        assert pt.schema.field(col.name).type == ARROW[col.kind], col.name
    data = {(r["event_id"], r["objective_id"]): r for r in pt.to_pylist()}
    assert data[(o1["event_id"], "o1")]["class_ids"] == ["c1", "c2"]
    assert data[(v1["event_id"], "o3")]["score"] == pytest.approx(1 / 3)
    assert data[(bench[1]["event_id"], "o2")]["score"] == 0.25


def test_mastery_rows_carry_the_same_columns(client: TestClient, world: World) -> None:
    rows = _rows(client, "mastery")
    assert list(rows[0]) == [c.name for c in COLUMNS["mastery"]]
    o3 = [r for r in rows if r["objective_id"] == "o3"]
    assert [(r["rubric_level"], r["score"], r["status_after"]) for r in o3] == [
        ("developing", pytest.approx(1 / 3), "in_progress"),
        ("expert", 1.0, "mastered"),
    ]
    assert {(r["school_id"], r["grade"], tuple(r["class_ids"]), r["course"]) for r in o3} == {
        ("sch1", "7", ("c1", "c2"), "writing-7")
    }
    assert world.events["s3_bench"]["event_id"] not in {r["event_id"] for r in rows}  # changes no status
    pt = pq.read_table(io.BytesIO(_get(client, "mastery", "parquet")))
    for col in COLUMNS["mastery"]:
        assert pt.schema.field(col.name).type == ARROW[col.kind], col.name
    assert pt.num_rows == len(rows)
    header = next(csv.reader(io.StringIO(_get(client, "mastery", "csv").decode())))
    assert header == [c.name for c in COLUMNS["mastery"]]


def _roster_of(rows: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    return {
        r["student_id"]: (
            r["name"],
            r["grade"],
            r["school_id"],
            r["school_name"],
            r["class_ids"],
            r["class_names"],
        )
        for r in rows
    }


def test_roster_round_trip_in_every_format(client: TestClient, world: World) -> None:
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
    assert _roster_of(_rows(client, "roster")) == expected
    table = list(csv.DictReader(io.StringIO(_get(client, "roster", "csv").decode())))
    assert list(table[0]) == [c.name for c in COLUMNS["roster"]]
    split = [
        {
            **r,
            "class_ids": r["class_ids"].split(";") if r["class_ids"] else [],
            "class_names": r["class_names"].split(";") if r["class_names"] else [],
        }
        for r in table
    ]
    assert _roster_of(split) == expected
    pt = pq.read_table(io.BytesIO(_get(client, "roster", "parquet")))
    for col in COLUMNS["roster"]:
        assert pt.schema.field(col.name).type == ARROW[col.kind], col.name
    assert _roster_of(pt.to_pylist()) == expected
    assert _roster_of(_rows(client, "roster", school_id="sch2")) == {"s3": expected["s3"]}


def test_erased_names_and_pseudonymised_rosters(client: TestClient, world: World) -> None:
    ledger_of(client).roster.erase_student("s2", "admin:test", "request 42")
    rows = {r["student_id"]: r for r in _rows(client, "roster")}
    assert rows["s2"]["name"] == "[erased]" and rows["s1"]["name"] == "Ana Lima"
    assert rows["s2"]["class_ids"] == ["c1"]  # the roster stays; only the name goes
    hidden = _get(client, "roster", "csv", pseudonymise="true")
    for name, _, _ in STUDENTS.values():
        assert name.encode() not in hidden
    pseudo = list(csv.DictReader(io.StringIO(hidden.decode())))
    assert {r["name"] for r in pseudo} == {""} and len(pseudo) == len(STUDENTS)


def test_analysts_get_the_same_pseudonym_in_every_kind_and_year(client: TestClient, world: World) -> None:
    analyst = _analyst(client)
    pseudonym = Pseudonymiser(pseudonym_secret(ledger_of(client).trust))
    p1 = pseudonym("s1")
    kinds = {kind: _get(client, kind, "ndjson", headers=analyst) for kind in ("events", "mastery", "roster")}
    for kind, body in kinds.items():
        rows = [json.loads(line) for line in body.splitlines()]
        assert p1 in {r["student_id"] for r in rows}, kind
        assert not {r["student_id"] for r in rows} & set(STUDENTS), kind
        for name, _, _ in STUDENTS.values():
            assert name.encode() not in body, (kind, name)
        assert b"I rushed" not in body
    roster = {r["student_id"]: r for r in map(json.loads, kinds["roster"].splitlines())}
    assert roster[p1]["name"] is None and roster[p1]["class_ids"] == ["c1", "c2"]
    # One school year's export and the next name s1 alike.
    first = _rows(client, "events", headers=analyst, to="2026-01-01T00:00:00Z")
    second = _rows(client, "events", headers=analyst, window={"from": "2026-01-01T00:00:00Z"})
    assert p1 in {r["student_id"] for r in first} and p1 in {r["student_id"] for r in second}
    parquet = pq.read_table(io.BytesIO(_get(client, "roster", "parquet", headers=analyst))).to_pylist()
    assert {r["student_id"] for r in parquet} == {pseudonym(s) for s in STUDENTS}


def test_filters_cut_on_school_and_occurred_at(client: TestClient, world: World) -> None:
    events = world.events
    sch2 = _rows(client, "events", school_id="sch2")
    assert {r["event_id"] for r in sch2} == {events["s3_bench"]["event_id"], events["s3_o1"]["event_id"]}
    # `from` included, `to` excluded: the benchmark at exactly 2026-03-05T00:00Z is left out.
    window = {"from": "2026-02-01T10:00:00Z", "to": "2026-03-05T00:00:00Z"}
    got = {r["event_id"] for r in _rows(client, "events", window=window)}
    assert got == {events[n]["event_id"] for n in ("s1_o3_v2", "s2_o1", "s2_reflection")}
    # Times in any offset mean the same instant.
    same = {"from": "2026-02-01T05:00:00-05:00", "to": "2026-03-04T19:00:00-05:00"}
    assert {r["event_id"] for r in _rows(client, "events", window=same)} == got
    # Mastery in a window: the status before counts what happened earlier.
    [row] = [r for r in _rows(client, "mastery", window=window) if r["objective_id"] == "o3"]
    assert (row["status_before"], row["status_after"], row["changed"]) == ("in_progress", "mastered", True)
    assert {r["student_id"] for r in _rows(client, "mastery", school_id="sch1")} == {"s1", "s2"}
    assert {r["student_id"] for r in _rows(client, "roster", school_id="sch1")} == {"s1", "s2", "s4"}


def test_filters_a_kind_does_not_take_and_bad_values_are_refused(client: TestClient, world: World) -> None:
    at = "2026-01-01T00:00:00Z"
    for kind in ("roster", "objectives"):
        [e] = _refused(client, 422, kind=kind, **{"from": at})
        assert e["loc"] == ["query", "from"] and "no occurred_at" in e["msg"], e
        [e] = _refused(client, 422, kind=kind, to=at)
        assert e["loc"] == ["query", "to"]
    [e] = _refused(client, 422, kind="objectives", school_id="sch1")
    assert e["loc"] == ["query", "school_id"]
    [e] = _refused(client, 422, kind="events", **{"from": at, "to": at})
    assert e["loc"] == ["query", "to"] and "later than from" in e["msg"]
    [e] = _refused(client, 422, kind="events", **{"from": "2026-01-01T00:00:00"})  # no offset
    assert e["loc"] == ["query", "from"] and "RFC 3339" in e["msg"]
    [e] = _refused(client, 422, kind="events", since=at)
    assert e["loc"] == ["query", "since"]
    r = client.get("/v1/export", params={"kind": "events", "school_id": "sch9"})
    assert (r.status_code, r.json()["detail"]) == (404, "no school 'sch9'")


def test_objectives_are_the_catalog_with_the_rule_in_force(client: TestClient, world: World) -> None:
    # A version effective in 2030 is recorded, not in force: the export shows the current one.
    future = {**export_world.OBJECTIVES["o1"], "effective_from": "2030-01-01T00:00:00Z"}
    future["rule"] = {"threshold": {"kind": "correct_of", "min_correct": 5, "of": 5}}
    export_world.put(client, "/v1/objectives/o1", future)
    rows = {r["objective_id"]: r for r in _rows(client, "objectives")}
    assert list(rows) == ["o1", "o2", "o3"]
    o1, o2, o3 = rows["o1"], rows["o2"], rows["o3"]
    assert (o1["rule_version"], o1["threshold_kind"], o1["threshold"], o1["method"]) == (
        1,
        "correct_of",
        0.8,
        "latest",
    )
    assert json.loads(o1["rule"])["threshold"] == {"kind": "correct_of", "min_correct": 4, "of": 5}
    assert (o2["prerequisites"], o2["sequence"], o2["unit"], o2["threshold"]) == (["o1"], 2, "u2", 0.8)
    assert (o3["rule_version"], o3["threshold"], o3["statement"]) == (2, 0.5, "Write a claim with evidence")
    assert datetime.fromisoformat(o3["rule_effective_from"]) == datetime(2026, 1, 1, tzinfo=UTC)
    pt = pq.read_table(io.BytesIO(_get(client, "objectives", "parquet")))
    for col in COLUMNS["objectives"]:
        assert pt.schema.field(col.name).type == ARROW[col.kind], col.name
    header = next(csv.reader(io.StringIO(_get(client, "objectives", "csv").decode())))
    assert header == [c.name for c in COLUMNS["objectives"]]


def test_a_roster_export_records_each_student_read_and_the_catalog_none(
    client: TestClient, world: World
) -> None:
    ledger = ledger_of(client)
    _get(client, "objectives")
    _get(client, "roster", pseudonymise="true")
    ledger.access.flush()

    def exported() -> list[str]:
        a = access_log.c
        with ledger.trust.connect() as conn:
            q = select(a.student_id).where(a.endpoint == "GET /v1/export").order_by(a.id)
            return list(conn.execute(q).scalars())

    assert exported() == []
    _get(client, "roster", school_id="sch1")
    ledger.access.flush()
    assert exported() == ["s1", "s2", "s4"]


def test_cli_exports_the_same_kinds_and_filters(
    client: TestClient, world: World, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MASTERY_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("MASTERY_DATABASE_URL", settings.database_url)
    out = tmp_path / "roster.parquet"
    args = ["export", "--kind", "roster", "--format", "parquet", "--school", "sch1", "--out", str(out)]
    result = CliRunner().invoke(cli.app, args)
    assert result.exit_code == 0, result.output
    assert (
        pq.read_table(out).to_pylist()
        == pq.read_table(io.BytesIO(_get(client, "roster", "parquet", school_id="sch1"))).to_pylist()
    )
    window = ["--from", "2026-02-01T10:00:00Z", "--to", "2026-03-05T00:00:00Z"]
    result = CliRunner().invoke(cli.app, ["export", "--kind", "events", *window])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    via_http = _rows(client, "events", window={"from": window[1], "to": window[3]})
    assert [r["event_id"] for r in lines] == [r["event_id"] for r in via_http] and len(lines) == 3

    for bad, message in [
        (["--kind", "roster", "--from", "2026-01-01T00:00:00Z"], "--from kind roster has no occurred_at"),
        (["--kind", "events", "--from", "yesterday"], "--from must be an RFC 3339 time"),
        (["--kind", "objectives", "--school", "sch1"], "--school kind objectives belongs to no school"),
        (["--kind", "events", "--school", "sch9"], "no school 'sch9'"),
    ]:
        result = CliRunner().invoke(cli.app, ["export", *bad])
        assert result.exit_code == 2 and message in result.output, (bad, result.output)
