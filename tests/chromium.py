"""Debian's Chromium for the tests that drive a real browser (tests/browser,
the class-page bench's smoke test): installed with apt when absent and the
tests run as root, else a failure saying how (CONTRACT.md §6: never a skip)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
INSTALL = "apt-get update && apt-get install -y chromium"


def ensure_chromium(path: Path = CHROMIUM) -> Path:
    """`path`, installed with apt when absent (as root), else a failure saying how."""
    if path.exists():
        return path
    if os.geteuid() != 0:
        pytest.fail(
            f"the browser tests need Debian's Chromium at {path}; install it as root with: {INSTALL}"
            " (or: sudo sh -c '" + INSTALL + "')",
            pytrace=False,
        )
    done = subprocess.run(["sh", "-c", INSTALL], capture_output=True, text=True, check=False)
    if done.returncode != 0 or not path.exists():
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        pytest.fail(f"could not install Chromium with `{INSTALL}`:\n" + "\n".join(tail), pytrace=False)
    return path
