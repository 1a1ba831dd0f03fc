"""`python -m bench.class_page` runs end to end on SQLite and PostgreSQL at a
tiny size (no timing asserted: speed is the bench's business) and measures
every request of the class page, beside its floor, and the page in Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench_runs import run_bench
from tests.chromium import ensure_chromium


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_class_page_bench_measures_each_request_and_the_browser(backend: str, tmp_path: Path) -> None:
    ensure_chromium()  # else the bench measures no browser, and says so
    out = tmp_path / "class_page.json"
    args = ["--students", "6", "--objectives", "20", "--reads", "5", "--backend", backend]
    bench = run_bench("bench.class_page", *args, out=out)
    record = bench.figures
    assert record["cells"] == 120 and record["events"] > 20
    assert set(record["requests"]) == {
        "shell",
        "mastery_map",
        "next",
        "groups",
        "contradictions",
        "explain",
        "page_total",
    }
    assert all(r["n"] == 5 and r["ratio_p50"] > 0 for r in record["requests"].values())
    assert {name: r["n"] for name, r in record["browser"].items()} == {
        "page_load": 3,
        "drawn_in_page": 3,
        "explain_click": 3,
    }
    assert f"class page, {backend}, 6 students × 20 objectives" in bench.printed
