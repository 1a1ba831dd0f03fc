"""Exports at size and from the CLI (CONTRACT.md §2, §1 `mastery export`):
batches and row groups, memory flat however large the export, and the CLI
writing the same pseudonyms as HTTP."""

from __future__ import annotations

import csv
import io
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from infra.settings import Settings
from services import cli
from services.export import formats, sources
from services.export.columns import EVENT_COLUMNS
from tests.helpers import attempt, bearer, post, seed_roster
from tests.integration.export_support import export_bytes, ndjson_rows, seed_district, synthetic_batches


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
            assert [row["event_id"] for row in ndjson_rows(body)] == ids
        elif fmt == "csv":
            assert [row["event_id"] for row in csv.DictReader(io.StringIO(body.decode()))] == ids
        else:
            f = pq.ParquetFile(io.BytesIO(body))
            assert f.metadata.num_rows == 3000 and f.metadata.num_row_groups == 3
            assert f.read().column("event_id").to_pylist() == ids

    mastery = ndjson_rows(export_bytes(client, "mastery", "ndjson"))
    assert len(mastery) == 3000 and sum(r["changed"] for r in mastery) >= 20


@pytest.mark.parametrize("fmt", formats.FORMATS)
def test_memory_stays_flat_however_large_the_export(fmt: formats.Format) -> None:
    """Encoding 200k rows holds at most a row group, never the whole export."""
    tracemalloc.start()
    try:
        total = 0
        for chunk in formats.encode(fmt, EVENT_COLUMNS, synthetic_batches(200_000)):
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
    d = seed_district(client)
    via_http = ndjson_rows(export_bytes(client, "events", "ndjson", headers=bearer(client, "analyst")))
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
