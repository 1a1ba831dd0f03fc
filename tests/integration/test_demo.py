"""`mastery demo`: a deterministic district, loaded once, with reproducible tokens."""

from __future__ import annotations

import collections
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from infra.readmodels import mastery_current
from infra.settings import load_settings
from services.bootstrap import build_ledger
from services.demo.district import District, batches
from services.demo.prepare import demo_district

MASTERY = str(Path(sys.executable).with_name("mastery"))


def _demo(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MASTERY, "demo", "--no-serve", "--students", "30", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _tokens(stdout: str) -> list[str]:
    return [
        line.split()[1] for line in stdout.splitlines() if line.strip().startswith(("admin ", "teacher "))
    ]


def test_demo_loads_once_and_prints_the_same_tokens(tmp_path: Path) -> None:
    first = _demo(tmp_path / "d")
    assert first.returncode == 0, first.stderr
    assert "Loaded the demo district" in first.stdout
    again = _demo(tmp_path / "d")
    assert again.returncode == 0, again.stderr
    assert "Reusing the demo district" in again.stdout
    assert _tokens(first.stdout) == _tokens(again.stdout) and len(_tokens(first.stdout)) == 2

    ledger = build_ledger(load_settings(data_dir=tmp_path / "d"))
    try:
        head = ledger.store.head_position()
        assert ledger.runner.position() == head  # the read models were caught up before serving
        with ledger.engine.connect() as conn:
            rows = conn.execute(select(mastery_current)).fetchall()
        statuses = collections.Counter(r.status for r in rows)
        flags = collections.Counter(f for r in rows for f in r.flags)
        assert statuses["mastered"] and statuses["in_progress"], statuses
        assert flags["reflection_missing"] and flags["same_form_retake"], flags
        assert ledger.tokens.authenticate(_tokens(first.stdout)[0]) is not None
    finally:
        ledger.close()

    other = _demo(tmp_path / "d", "--seed", "8")
    assert other.returncode == 2
    assert len(other.stderr.strip().splitlines()) == 1 and "seed 7" in other.stderr

    # An interrupted load leaves data without the marker: refused, saying how to go on.
    (tmp_path / "d" / "demo.json").unlink()
    interrupted = _demo(tmp_path / "d")
    assert interrupted.returncode == 2
    assert interrupted.stderr.strip().splitlines() == [
        f"mastery: {tmp_path / 'd'} holds data but no finished demo (real data, or a demo load that was "
        "interrupted); remove it (make clean) or use another --data-dir"
    ]


def test_district_is_deterministic_and_references_point_backwards() -> None:
    from datetime import UTC, datetime

    today = datetime(2026, 11, 22, tzinfo=UTC)
    district = demo_district(40, 3, today)
    one = [e for b in batches(district.events(2000), 500) for e in b]
    two = list(demo_district(40, 3, today).events(2000))
    assert one == two
    assert one != list(demo_district(40, 4, today).events(2000))
    seen: set[str] = set()
    for e in one:
        for ref in ("retake_of", "on_event", "target_event_id"):
            if ref in e:
                assert e[ref] in seen, (ref, e)
        seen.add(e["event_id"])
        assert e["occurred_at"] < today.isoformat()
    kinds = collections.Counter(e["type"] for e in one)
    assert {"attempt", "retake", "reflection", "override", "benchmark", "goal", "void"} <= set(kinds)
    assert isinstance(district, District) and district.heavy_events == 0
