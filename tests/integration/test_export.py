"""Longitudinal exports (CONTRACT.md §2 `GET /v1/export`, §1 `mastery export`), on each backend."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from infra.settings import Settings
from services import cli
from services.export import formats, sources
from services.export.columns import EVENT_COLUMNS
from tests.helpers import attempt, new_id, post, seed_roster

SECRET_TEXT = "I dropped the negative sign"
NOTE_TEXT = "Jamie cried during the quiz"
REASON_TEXT = "Ms Rivera saw Jamie solve it at the board"


def _district(c: TestClient) -> dict[str, Any]:
    """Two students, two objectives, every kind of learning event."""
    seed_roster(
        c,
        students=("s1", "s2"),
        objectives={
            "o1": {"threshold": {"kind": "percent", "min": 80}},
            "o2": {"threshold": {"kind": "percent", "min": 80}},
        },
    )
    first = attempt(
        correct=6,
        at="2025-09-14T09:30:00-05:00",
        notes=NOTE_TEXT,
        items=[{"item": 1, "correct": True, "comment": "Jamie guessed"}],
    )
    reflection = {
        "event_id": new_id(),
        "type": "reflection",
        "student_id": "s1",
        "occurred_at": "2025-09-15T09:30:00-05:00",
        "on_event": first["event_id"],
        "text": SECRET_TEXT,
        "error_analysis": [{"item": 1, "cause": "sign error"}],
    }
    retake = attempt(
        correct=9, form="B", at="2026-09-16T09:30:00-05:00", type="retake", retake_of=first["event_id"]
    )
    override = {
        "event_id": new_id(),
        "type": "override",
        "student_id": "s2",
        "objective_id": "o2",
        "occurred_at": "2026-10-01T10:00:00Z",
        "status": "mastered",
        "reason": REASON_TEXT,
    }
    bench = {
        "event_id": new_id(),
        "type": "benchmark",
        "student_id": "s2",
        "occurred_at": "2026-10-02T10:00:00Z",
        "benchmark_id": "interim-1",
        "name": "Interim 1",
        "results": [{"objective_id": "o1", "correct": 4, "total": 5}],
    }
    other = attempt(student="s2", objective="o1", correct=3, at="2026-10-03T10:00:00Z")
    void = {
        "event_id": new_id(),
        "type": "void",
        "student_id": "s2",
        "occurred_at": "2026-10-04T10:00:00Z",
        "target_event_id": other["event_id"],
        "reason": "wrong student",
    }
    events = [first, reflection, retake, override, bench, other, void]
    post(c, *events)
    return {
        "events": events,
        "first": first,
        "reflection": reflection,
        "retake": retake,
        "override": override,
        "bench": bench,
        "other": other,
        "void": void,
    }


def _export(c: TestClient, kind: str, fmt: formats.Format, **params: Any) -> bytes:
    headers = params.pop("headers", {})
    r = c.get("/v1/export", params={"kind": kind, "format": fmt, **params}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(formats.MEDIA_TYPES[fmt].split(";")[0])
    assert "attachment" in r.headers["content-disposition"]
    body: bytes = r.content
    return body


def _ndjson(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body.splitlines()]


def _token(c: TestClient, role: str, *scopes: str) -> dict[str, str]:
    token = c.app.state.ledger.tokens.create(role, list(scopes), f"{role}-tester")  # type: ignore[attr-defined]
    return {"Authorization": f"Bearer {token}"}


def test_events_in_every_format_agree_and_load_with_proper_types(client: TestClient) -> None:
    d = _district(client)
    rows = _ndjson(_export(client, "events", "ndjson"))
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

    text = _export(client, "events", "csv").decode()
    table = list(csv.DictReader(io.StringIO(text)))
    assert list(table[0]) == [c.name for c in EVENT_COLUMNS]
    assert [r["event_id"] for r in table] == [r["event_id"] for r in rows]
    assert [int(r["position"]) for r in table] == positions
    assert table[4]["objective_id"] == "o1"  # the benchmark's one result
    assert table[2]["class_ids"] == "c1" and table[6]["rubric_level"] == ""  # a list; a null
    assert json.loads(table[1]["payload"])["text"] == SECRET_TEXT

    pt = pq.read_table(io.BytesIO(_export(client, "events", "parquet")))
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
    d = _district(client)
    rows = _ndjson(_export(client, "mastery", "ndjson"))
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

    table = list(csv.DictReader(io.StringIO(_export(client, "mastery", "csv").decode())))
    assert [(r["event_id"], r["changed"]) for r in table] == [
        (r["event_id"], str(r["changed"]).lower()) for r in rows
    ]
    pt = pq.read_table(io.BytesIO(_export(client, "mastery", "parquet")))
    assert pt.schema.field("occurred_at").type == pa.timestamp("us", tz="UTC")
    assert pt.schema.field("student_id").type == pa.string()
    assert pt.schema.field("changed").type == pa.bool_()
    assert pt.num_rows == len(rows)
    assert [r["status_after"] for r in pt.to_pylist()] == [r["status_after"] for r in rows]


def test_analyst_gets_stable_pseudonyms_and_no_names_or_free_text(client: TestClient) -> None:
    d = _district(client)
    analyst = _token(client, "analyst")
    first = _export(client, "events", "ndjson", headers=analyst)
    again = _export(client, "events", "ndjson", headers=analyst)
    assert first == again  # stable across calls
    rows = _ndjson(first)
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
    mastery = _ndjson(_export(client, "mastery", "ndjson", headers=analyst))
    assert {r["student_id"] for r in mastery} == pseudonyms
    assert {r["student_id"] for r in mastery if r["event_id"] == d["retake"]["event_id"]} == {pseudonym_of_s1}
    pt = pq.read_table(io.BytesIO(_export(client, "events", "parquet", headers=analyst))).to_pylist()
    assert {r["student_id"] for r in pt} == pseudonyms
    csv_body = _export(client, "mastery", "csv", headers=analyst)
    assert b"s1," not in csv_body and pseudonym_of_s1.encode() in csv_body

    # An admin may ask for the pseudonymised form too, and gets the same pseudonyms.
    admin_pseudo = _ndjson(_export(client, "events", "ndjson", pseudonymise="true"))
    assert {r["student_id"] for r in admin_pseudo} == pseudonyms


def test_only_admin_auditor_and_analyst_may_export(client: TestClient) -> None:
    seed_roster(client)
    post(client, attempt())
    assert (
        _ndjson(_export(client, "events", "ndjson", headers=_token(client, "auditor")))[0]["student_id"]
        == "s1"
    )
    for role, scopes in (
        ("teacher", ["class:c1"]),
        ("student", ["student:s1"]),
        ("guardian", ["student:s1"]),
        ("ingest", []),
    ):
        r = client.get("/v1/export", params={"kind": "events"}, headers=_token(client, role, *scopes))
        assert r.status_code == 403, role
        assert r.headers["content-type"].startswith("application/problem+json")
    assert (
        client.get("/v1/export", params={"kind": "events"}, headers={"Authorization": ""}).status_code == 401
    )
    assert client.get("/v1/export", params={"kind": "grades"}).status_code == 422
    assert client.get("/v1/export", params={"kind": "events", "format": "xlsx"}).status_code == 422


def test_a_few_thousand_events_stream_in_batches_and_row_groups(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    students = tuple(f"s{i}" for i in range(20))
    seed_roster(client, students=students)
    start = datetime(2025, 9, 1, tzinfo=UTC)
    ids: list[str] = []
    for b in range(3):
        batch = [
            attempt(
                student=students[i % 20],
                correct=i % 11,
                at=(start + timedelta(hours=b * 1000 + i)).isoformat(),
            )
            for i in range(1000)
        ]
        ids += [e["event_id"] for e in batch]
        post(client, *batch)
    monkeypatch.setattr(sources, "READ_BATCH", 400)
    monkeypatch.setattr(formats, "ROW_GROUP", 1000)

    for fmt in ("ndjson", "csv", "parquet"):
        with client.stream("GET", "/v1/export", params={"kind": "events", "format": fmt}) as r:
            assert r.status_code == 200
            chunks = list(r.iter_raw())
        assert len(chunks) >= 3, fmt  # sent as it was read, not assembled first
        body = b"".join(chunks)
        if fmt == "ndjson":
            assert [row["event_id"] for row in _ndjson(body)] == ids
        elif fmt == "csv":
            assert [row["event_id"] for row in csv.DictReader(io.StringIO(body.decode()))] == ids
        else:
            f = pq.ParquetFile(io.BytesIO(body))
            assert f.metadata.num_rows == 3000 and f.metadata.num_row_groups == 3
            assert f.read().column("event_id").to_pylist() == ids

    mastery = _ndjson(_export(client, "mastery", "ndjson"))
    assert len(mastery) == 3000 and sum(r["changed"] for r in mastery) >= 20


def _synthetic(n: int) -> Iterator[list[dict[str, Any]]]:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    for start in range(0, n, 5000):
        yield [
            {
                "position": i,
                "event_id": f"{i:036d}",
                "type": "attempt",
                "student_id": f"student-{i % 997}",
                "school_id": "sch1",
                "grade": "7",
                "class_ids": [f"c{i % 40}", "c-all"],
                "class_course_ids": [f"crs{i % 4}", None],
                "objective_id": f"o{i % 40}",
                "subject": "math",
                "course": "algebra-1",
                "unit": "u1",
                "occurred_at": t,
                "recorded_at": t,
                "recorded_by": "ingest:sis",
                "correct": 7,
                "total": 10,
                "percent": None,
                "rubric_level": None,
                "score": 0.7,
                "payload": '{"score":{"correct":7,"total":10},"form":"A","evidence":"quiz"}',
            }
            for i in range(start, min(n, start + 5000))
        ]


@pytest.mark.parametrize("fmt", formats.FORMATS)
def test_memory_stays_flat_however_large_the_export(fmt: formats.Format) -> None:
    """Encoding 200k rows holds at most a row group, never the whole export."""
    tracemalloc.start()
    try:
        total = 0
        for chunk in formats.encode(fmt, EVENT_COLUMNS, _synthetic(200_000)):
            total += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total > 500_000
    # Holding all 200k rows at once takes ~100 MB; one 50k-row group ~18 MB, one 5k batch ~10 MB.
    limit = 40_000_000 if fmt == "parquet" else 15_000_000
    assert peak < limit, (fmt, peak, total)


def test_cli_export_writes_the_same_pseudonyms_as_http(
    client: TestClient, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = _district(client)
    via_http = _ndjson(_export(client, "events", "ndjson", headers=_token(client, "analyst")))
    monkeypatch.setenv("MASTERY_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("MASTERY_DATABASE_URL", settings.database_url)
    out = tmp_path / "events.parquet"
    result = CliRunner().invoke(
        cli.app, ["export", "--kind", "events", "--format", "parquet", "--out", str(out), "--pseudonymise"]
    )
    assert result.exit_code == 0, result.output
    rows = pq.read_table(out).to_pylist()
    assert [(r["event_id"], r["student_id"]) for r in rows] == [
        (r["event_id"], r["student_id"]) for r in via_http
    ]
    assert len(rows) == len(d["events"])

    result = CliRunner().invoke(cli.app, ["export", "--kind", "grades"])
    assert result.exit_code == 2 and "--kind must be one of" in result.output
