"""`python -m bench.kafka_run --smoke` runs end to end against the session's
broker: the lag with every role its own process, the catch-up with one and
two workers, the rebuild floor (no timing asserted: speed is the bench's
business; bench/RESULTS.md has the figures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench_runs import run_bench


@pytest.mark.postgres
@pytest.mark.timeout(600)  # ~100 s: five processes started, then three workers and a rebuild
def test_the_kafka_bench_measures_lag_and_catch_up_at_smoke_size(
    kafka_broker_bootstrap: str, tmp_path: Path
) -> None:
    out = tmp_path / "kafka.json"
    args = ["--smoke", "--bootstrap", kafka_broker_bootstrap]
    bench = run_bench("bench.kafka_run", *args, out=out, timeout=600)
    figures = bench.figures
    lag, catch_up = figures["lag"], figures["catch_up"]
    assert lag["n"] >= 1 and lag["p99"] >= lag["p50"] > 0 and lag["load_events_per_s"] > 0
    assert catch_up["log_entries"] > 1_500  # the backlog and the district's roster
    for measure in ("one_worker_events_per_s", "two_workers_events_per_s", "floor_rebuild_events_per_s"):
        assert catch_up[measure] > 0, measure
    assert figures["broker"] == "given" and figures["load_average_1m"]["cpus"] >= 1
    assert "write-to-readable lag" in bench.printed
