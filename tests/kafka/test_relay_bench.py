"""`python -m bench.relay_rate` runs end to end at a tiny size against the
session's broker (no timing asserted: speed is the bench's business)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.postgres
def test_the_relay_bench_measures_the_relay_beside_its_floor(
    kafka_broker_bootstrap: str, tmp_path: Path
) -> None:
    out = tmp_path / "relay.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.relay_rate",
            "--events",
            "1500",
            "--partitions",
            "3",
            "--bootstrap",
            kafka_broker_bootstrap,
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert figures["log_entries"] > 1500  # the events and the district's roster
    assert figures["relay_events_per_s"] > 0 and figures["floor_events_per_s"] > 0
    assert "relay catch-up" in proc.stdout
