"""Exports across kinds (issue 13 item 4; docs/exports.md): an analyst's
pseudonym the same in every kind and year; the filters (school, from, to),
refused where a kind does not take them; the objectives kind with the rule
in force; a roster export's access records; the CLI exporting the same. On
each backend."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

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
from tests.integration.export_reads import ARROW, analyst_header, export_body, export_rows, refused_export
from tests.integration.export_world import STUDENTS, World


def test_analysts_get_the_same_pseudonym_in_every_kind_and_year(
    client: TestClient, export_district: World
) -> None:
    analyst = analyst_header(client)
    pseudonym = Pseudonymiser(pseudonym_secret(ledger_of(client).trust))
    p1 = pseudonym("s1")
    kinds = {
        kind: export_body(client, kind, "ndjson", headers=analyst) for kind in ("events", "mastery", "roster")
    }
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
    first = export_rows(client, "events", headers=analyst, to="2026-01-01T00:00:00Z")
    second = export_rows(client, "events", headers=analyst, window={"from": "2026-01-01T00:00:00Z"})
    assert p1 in {r["student_id"] for r in first} and p1 in {r["student_id"] for r in second}
    parquet = pq.read_table(io.BytesIO(export_body(client, "roster", "parquet", headers=analyst))).to_pylist()
    assert {r["student_id"] for r in parquet} == {pseudonym(s) for s in STUDENTS}


def test_filters_cut_on_school_and_occurred_at(client: TestClient, export_district: World) -> None:
    events = export_district.events
    sch2 = export_rows(client, "events", school_id="sch2")
    assert {r["event_id"] for r in sch2} == {events["s3_bench"]["event_id"], events["s3_o1"]["event_id"]}
    # `from` included, `to` excluded: the benchmark at exactly 2026-03-05T00:00Z is left out.
    window = {"from": "2026-02-01T10:00:00Z", "to": "2026-03-05T00:00:00Z"}
    got = {r["event_id"] for r in export_rows(client, "events", window=window)}
    assert got == {events[n]["event_id"] for n in ("s1_o3_v2", "s2_o1", "s2_reflection")}
    # Times in any offset mean the same instant.
    same = {"from": "2026-02-01T05:00:00-05:00", "to": "2026-03-04T19:00:00-05:00"}
    assert {r["event_id"] for r in export_rows(client, "events", window=same)} == got
    # Mastery in a window: the status before counts what happened earlier.
    [row] = [r for r in export_rows(client, "mastery", window=window) if r["objective_id"] == "o3"]
    assert (row["status_before"], row["status_after"], row["changed"]) == ("in_progress", "mastered", True)
    assert {r["student_id"] for r in export_rows(client, "mastery", school_id="sch1")} == {"s1", "s2"}
    assert {r["student_id"] for r in export_rows(client, "roster", school_id="sch1")} == {"s1", "s2", "s4"}


def test_filters_a_kind_does_not_take_and_bad_values_are_refused(
    client: TestClient, export_district: World
) -> None:
    at = "2026-01-01T00:00:00Z"
    for kind in ("roster", "objectives"):
        [e] = refused_export(client, 422, kind=kind, **{"from": at})
        assert e["loc"] == ["query", "from"] and "no occurred_at" in e["msg"], e
        [e] = refused_export(client, 422, kind=kind, to=at)
        assert e["loc"] == ["query", "to"]
    [e] = refused_export(client, 422, kind="objectives", school_id="sch1")
    assert e["loc"] == ["query", "school_id"]
    [e] = refused_export(client, 422, kind="events", **{"from": at, "to": at})
    assert e["loc"] == ["query", "to"] and "later than from" in e["msg"]
    [e] = refused_export(client, 422, kind="events", **{"from": "2026-01-01T00:00:00"})  # no offset
    assert e["loc"] == ["query", "from"] and "RFC 3339" in e["msg"]
    [e] = refused_export(client, 422, kind="events", since=at)
    assert e["loc"] == ["query", "since"]
    r = client.get("/v1/export", params={"kind": "events", "school_id": "sch9"})
    assert (r.status_code, r.json()["detail"]) == (404, "no school 'sch9'")


def test_objectives_are_the_catalog_with_the_rule_in_force(
    client: TestClient, export_district: World
) -> None:
    # A version effective in 2030 is recorded, not in force: the export shows the current one.
    future = {**export_world.OBJECTIVES["o1"], "effective_from": "2030-01-01T00:00:00Z"}
    future["rule"] = {"threshold": {"kind": "correct_of", "min_correct": 5, "of": 5}}
    export_world.put(client, "/v1/objectives/o1", future)
    rows = {r["objective_id"]: r for r in export_rows(client, "objectives")}
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
    pt = pq.read_table(io.BytesIO(export_body(client, "objectives", "parquet")))
    for col in COLUMNS["objectives"]:
        assert pt.schema.field(col.name).type == ARROW[col.kind], col.name
    header = next(csv.reader(io.StringIO(export_body(client, "objectives", "csv").decode())))
    assert header == [c.name for c in COLUMNS["objectives"]]


def test_a_roster_export_records_each_student_read_and_the_catalog_none(
    client: TestClient, export_district: World
) -> None:
    ledger = ledger_of(client)
    export_body(client, "objectives")
    export_body(client, "roster", pseudonymise="true")
    ledger.access.flush()

    def exported() -> list[str]:
        a = access_log.c
        with ledger.trust.connect() as conn:
            q = select(a.student_id).where(a.endpoint == "GET /v1/export").order_by(a.id)
            return list(conn.execute(q).scalars())

    assert exported() == []
    export_body(client, "roster", school_id="sch1")
    ledger.access.flush()
    assert exported() == ["s1", "s2", "s4"]


def test_cli_exports_the_same_kinds_and_filters(
    client: TestClient,
    export_district: World,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
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
        == pq.read_table(io.BytesIO(export_body(client, "roster", "parquet", school_id="sch1"))).to_pylist()
    )
    window = ["--from", "2026-02-01T10:00:00Z", "--to", "2026-03-05T00:00:00Z"]
    result = CliRunner().invoke(cli.app, ["export", "--kind", "events", *window])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    via_http = export_rows(client, "events", window={"from": window[1], "to": window[3]})
    assert [r["event_id"] for r in lines] == [r["event_id"] for r in via_http] and len(lines) == 3

    for bad, message in [
        (["--kind", "roster", "--from", "2026-01-01T00:00:00Z"], "--from kind roster has no occurred_at"),
        (["--kind", "events", "--from", "yesterday"], "--from must be an RFC 3339 time"),
        (["--kind", "objectives", "--school", "sch1"], "--school kind objectives belongs to no school"),
        (["--kind", "events", "--school", "sch9"], "no school 'sch9'"),
    ]:
        result = CliRunner().invoke(cli.app, ["export", *bad])
        assert result.exit_code == 2 and message in result.output, (bad, result.output)
