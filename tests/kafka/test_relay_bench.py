"""`python -m bench.relay_rate` runs end to end at a tiny size against the
session's broker (no timing asserted: speed is the bench's business)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench_runs import run_bench


@pytest.mark.postgres
def test_the_relay_bench_measures_the_relay_beside_its_floor(
    kafka_broker_bootstrap: str, tmp_path: Path
) -> None:
    out = tmp_path / "relay.json"
    args = ["--events", "1500", "--partitions", "3", "--bootstrap", kafka_broker_bootstrap]
    bench = run_bench("bench.relay_rate", *args, out=out)
    figures = bench.figures
    assert figures["log_entries"] > 1500  # the events and the district's roster
    assert figures["relay_events_per_s"] > 0 and figures["floor_events_per_s"] > 0
    assert "relay catch-up" in bench.printed
