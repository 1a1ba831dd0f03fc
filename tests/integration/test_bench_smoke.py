"""`python -m bench --smoke` runs end to end on SQLite and PostgreSQL (no timing targets)."""

from __future__ import annotations

from pathlib import Path

from tests.bench_runs import run_bench


def test_bench_smoke_runs_every_measure_on_both_backends(tmp_path: Path) -> None:
    out = tmp_path / "smoke.json"
    bench = run_bench("bench", "--smoke", out=out)
    record = bench.figures
    assert record["smoke"] is True
    assert set(record["runs"]) == {"sqlite", "postgres"}
    for backend, run in record["runs"].items():
        ingest, rebuild = run["ingest"], run["rebuild"]
        assert ingest["events"] == 1_000 and ingest["floor_rows"] == 1_000, backend
        assert ingest["rate"] > 0 and ingest["floor_rate"] > 0 and ingest["ratio"] > 0
        assert rebuild["entries"] == rebuild["floor_entries"] == run["log_entries"]
        verify = run["verify"]  # (f) the whole log against its hash chains
        assert 0 < verify["events"] == verify["floor_rows"] <= run["log_entries"], backend
        assert verify["rate"] > 0 and verify["floor_rate"] > 0
        assert run["student_mastery"]["n"] == 30 and run["student_mastery"]["floor"]["n"] == 30
        assert run["audit_replay"]["events"] == 300 and run["audit_replay"]["n"] == 3
        assert run["lag"]["n"] >= 1 and run["lag"]["load_events_per_s"] > 0
        assert run["embedded_lag"]["n"] >= 1, backend  # on PostgreSQL, measured on a SQLite store of its own
        access = run["access_log"]
        assert access["recorded"]["n"] == access["not_recorded"]["n"] == 30, backend
        assert access["recorder"]["inserts"] >= 1 and access["recorder"]["enqueue_us"] > 0
    assert run["rebuild"]["workers"] >= 1 and run["ingest"]["processes"] >= 1
    assert "Mastery Ledger bench: postgres" in bench.printed
