"""Run a bench module as the README does (`python -m bench.X ... --out FILE`)
and hand back what it wrote and printed. The smoke tests of bench/ assert
what was measured, never how fast: speed is the bench's business."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class BenchRun:
    figures: Any  # the JSON the bench wrote to --out
    printed: str  # its stdout: the report a person reads


def run_bench(module: str, *args: str, out: Path, timeout: float = 300) -> BenchRun:
    """A hang fails at `timeout`; a failure shows the tail of what the bench said."""
    proc = subprocess.run(
        [sys.executable, "-m", module, *args, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return BenchRun(json.loads(out.read_text()), proc.stdout)
