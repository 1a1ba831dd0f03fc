"""The browser fixture's own rule (CONTRACT.md §6): without /usr/bin/chromium
and without root it fails, saying how to install it; it never skips."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chromium import INSTALL, ensure_chromium


def test_without_chromium_and_root_the_tests_fail_saying_how(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    with pytest.raises(pytest.fail.Exception) as failed:
        ensure_chromium(tmp_path / "no-chromium")
    assert INSTALL == "apt-get update && apt-get install -y chromium" and INSTALL in str(failed.value)


def test_with_chromium_the_path_is_given(tmp_path: Path) -> None:
    present = tmp_path / "chromium"
    present.touch()
    assert ensure_chromium(present) == present
