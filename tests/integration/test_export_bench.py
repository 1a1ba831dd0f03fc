"""`python -m bench.export_rate` runs end to end on SQLite and PostgreSQL at a
tiny size (no timing asserted: speed is the bench's business), and every
format of a kind holds the same rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench_runs import run_bench


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_export_bench_measures_every_kind_and_format(backend: str, tmp_path: Path) -> None:
    out = tmp_path / "exports.json"
    bench = run_bench("bench.export_rate", "--events", "2000", "--backend", backend, out=out)
    record = bench.figures
    assert record["events"] == 2000 and record["students"] >= 50
    rows: dict[str, set[int]] = {}
    for f in record["exports"]:
        assert f["rows_per_s"] > 0 and f["bytes"] > 0, f
        rows.setdefault(f["kind"], set()).add(f["rows"])
    assert {kind: len(counts) for kind, counts in rows.items()} == dict.fromkeys(rows, 1)  # formats agree
    assert rows["roster"] == {record["students"]} and rows["objectives"] == {record["objectives"]}
    assert next(iter(rows["events"])) >= 2000  # a benchmark gives a row per result
    assert f"exports, {backend}, 2,000 events" in bench.printed
