"""Longitudinal exports (CONTRACT.md §2 `GET /v1/export`), on each backend:
every format agrees, mastery rows from history, pseudonyms and no personal
text for analysts, who may export."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
from fastapi.testclient import TestClient

from services.export.columns import EVENT_COLUMNS
from tests.helpers import attempt, bearer, post, seed_roster
from tests.integration.export_support import (
    NOTE_TEXT,
    REASON_TEXT,
    SECRET_TEXT,
    export_bytes,
    ndjson_rows,
    seed_district,
)


def test_events_in_every_format_agree_and_load_with_proper_types(client: TestClient) -> None:
    d = seed_district(client)
    rows = ndjson_rows(export_bytes(client, "events", "ndjson"))
    assert [r["event_id"] for r in rows] == [e["event_id"] for e in d["events"]]
    positions = [r["position"] for r in rows]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    by_id = {r["event_id"]: r for r in rows}
    assert by_id[d["reflection"]["event_id"]]["objective_id"] == "o1"  # inherited from its target
    assert by_id[d["void"]["event_id"]]["objective_id"] == "o1"
    assert by_id[d["bench"]["event_id"]]["objective_id"] == "o1"  # its one result's
    first = by_id[d["first"]["event_id"]]
    assert first["student_id"] == "s1" and first["type"] == "attempt"
    assert first["recorded_by"] == "admin:bootstrap"
    assert datetime.fromisoformat(first["occurred_at"]) == datetime(2025, 9, 14, 14, 30, tzinfo=UTC)
    assert json.loads(first["payload"])["notes"] == NOTE_TEXT  # admins see everything

    text = export_bytes(client, "events", "csv").decode()
    table = list(csv.DictReader(io.StringIO(text)))
    assert list(table[0]) == [c.name for c in EVENT_COLUMNS]
    assert [r["event_id"] for r in table] == [r["event_id"] for r in rows]
    assert [int(r["position"]) for r in table] == positions
    assert table[4]["objective_id"] == "o1"  # the benchmark's one result
    assert table[2]["class_ids"] == "c1" and table[6]["rubric_level"] == ""  # a list; a null
    assert json.loads(table[1]["payload"])["text"] == SECRET_TEXT

    pt = pq.read_table(io.BytesIO(export_bytes(client, "events", "parquet")))
    assert pt.schema.field("occurred_at").type == pa.timestamp("us", tz="UTC")
    assert pt.schema.field("recorded_at").type == pa.timestamp("us", tz="UTC")
    for name in ("event_id", "student_id", "objective_id", "type", "recorded_by", "payload"):
        assert pt.schema.field(name).type == pa.string(), name
    assert pt.schema.field("position").type == pa.int64()
    data = pt.to_pylist()
    assert [r["event_id"] for r in data] == [r["event_id"] for r in rows]
    assert data[0]["occurred_at"] == datetime(2025, 9, 14, 14, 30, tzinfo=UTC)
    # A data team follows one student across school years.
    s1 = sorted((r for r in data if r["student_id"] == "s1"), key=lambda r: r["occurred_at"])
    assert [r["occurred_at"].year for r in s1] == [2025, 2025, 2026]
    assert [r["type"] for r in s1] == ["attempt", "reflection", "retake"]


def test_mastery_export_has_every_status_change_from_history(client: TestClient) -> None:
    d = seed_district(client)
    rows = ndjson_rows(export_bytes(client, "mastery", "ndjson"))
    s1 = [
        (r["event_id"], r["status_before"], r["status_after"], r["changed"])
        for r in rows
        if r["student_id"] == "s1"
    ]
    assert s1 == [
        (d["first"]["event_id"], None, "in_progress", True),
        (d["reflection"]["event_id"], "in_progress", "in_progress", False),
        (d["retake"]["event_id"], "in_progress", "mastered", True),
    ]
    s2 = {r["event_id"]: r for r in rows if r["student_id"] == "s2"}
    assert s2[d["override"]["event_id"]]["status_after"] == "mastered"
    assert s2[d["override"]["event_id"]]["objective_id"] == "o2"
    assert d["bench"]["event_id"] not in s2  # no single objective's status follows a benchmark
    assert s2[d["other"]["event_id"]]["voided"] is True
    assert s2[d["void"]["event_id"]]["status_before"] == "in_progress"
    # The audit trail and the export agree on each status after.
    history = client.get("/v1/students/s1/history").json()["events"]
    assert [h["status_after"] for h in history] == [r[2] for r in s1]

    table = list(csv.DictReader(io.StringIO(export_bytes(client, "mastery", "csv").decode())))
    assert [(r["event_id"], r["changed"]) for r in table] == [
        (r["event_id"], str(r["changed"]).lower()) for r in rows
    ]
    pt = pq.read_table(io.BytesIO(export_bytes(client, "mastery", "parquet")))
    assert pt.schema.field("occurred_at").type == pa.timestamp("us", tz="UTC")
    assert pt.schema.field("student_id").type == pa.string()
    assert pt.schema.field("changed").type == pa.bool_()
    assert pt.num_rows == len(rows)
    assert [r["status_after"] for r in pt.to_pylist()] == [r["status_after"] for r in rows]


def test_analyst_gets_stable_pseudonyms_and_no_names_or_free_text(client: TestClient) -> None:
    d = seed_district(client)
    analyst = bearer(client, "analyst")
    first = export_bytes(client, "events", "ndjson", headers=analyst)
    again = export_bytes(client, "events", "ndjson", headers=analyst)
    assert first == again  # stable across calls
    rows = ndjson_rows(first)
    pseudonyms = {r["student_id"] for r in rows}
    assert len(pseudonyms) == 2 and not pseudonyms & {"s1", "s2"}
    assert all(p.startswith("p-") and len(p) == 34 for p in pseudonyms)
    for secret in (SECRET_TEXT, NOTE_TEXT, REASON_TEXT, "sign error", "Jamie", "bootstrap", '"s1"', '"s2"'):
        assert secret.encode() not in first, secret
    by_id = {r["event_id"]: r for r in rows}
    assert by_id[d["first"]["event_id"]]["recorded_by"] == "admin"
    payload = json.loads(by_id[d["first"]["event_id"]]["payload"])
    assert payload["score"] == {"correct": 6, "total": 10} and payload["items"] == [
        {"item": 1, "correct": True}
    ]
    assert json.loads(by_id[d["bench"]["event_id"]]["payload"])["name"] == "Interim 1"

    # The same student has the same pseudonym in every kind and format.
    pseudonym_of_s1 = by_id[d["first"]["event_id"]]["student_id"]
    mastery = ndjson_rows(export_bytes(client, "mastery", "ndjson", headers=analyst))
    assert {r["student_id"] for r in mastery} == pseudonyms
    assert {r["student_id"] for r in mastery if r["event_id"] == d["retake"]["event_id"]} == {pseudonym_of_s1}
    pt = pq.read_table(io.BytesIO(export_bytes(client, "events", "parquet", headers=analyst))).to_pylist()
    assert {r["student_id"] for r in pt} == pseudonyms
    csv_body = export_bytes(client, "mastery", "csv", headers=analyst)
    assert b"s1," not in csv_body and pseudonym_of_s1.encode() in csv_body

    # An admin may ask for the pseudonymised form too, and gets the same pseudonyms.
    admin_pseudo = ndjson_rows(export_bytes(client, "events", "ndjson", pseudonymise="true"))
    assert {r["student_id"] for r in admin_pseudo} == pseudonyms


def test_only_admin_auditor_and_analyst_may_export(client: TestClient) -> None:
    seed_roster(client)
    post(client, attempt())
    assert (
        ndjson_rows(export_bytes(client, "events", "ndjson", headers=bearer(client, "auditor")))[0][
            "student_id"
        ]
        == "s1"
    )
    for role, scopes in (
        ("teacher", ["class:c1"]),
        ("student", ["student:s1"]),
        ("guardian", ["student:s1"]),
        ("ingest", []),
    ):
        r = client.get("/v1/export", params={"kind": "events"}, headers=bearer(client, role, *scopes))
        assert r.status_code == 403, role
        assert r.headers["content-type"].startswith("application/problem+json")
    assert (
        client.get("/v1/export", params={"kind": "events"}, headers={"Authorization": ""}).status_code == 401
    )
    assert client.get("/v1/export", params={"kind": "grades"}).status_code == 422
    assert client.get("/v1/export", params={"kind": "events", "format": "xlsx"}).status_code == 422
