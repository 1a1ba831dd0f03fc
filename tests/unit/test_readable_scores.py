"""Scores as people read them, and the port probe of `mastery demo` (issue 13, item 6)."""

from __future__ import annotations

import socket

from domain.records import Score
from domain.rules.assessment import score_text
from services.ports import port_busy

LEVELS = ["beginning", "developing", "secure", "extending"]


def test_a_score_under_a_rubric_reads_as_its_level() -> None:
    assert score_text(0.0, LEVELS) == "beginning"
    assert score_text(2 / 3, LEVELS) == "secure"
    assert score_text(1.0, LEVELS) == "extending"
    # A mean between two levels (an averaging method) is no level: a percent.
    assert score_text(0.5, LEVELS) == "50 %"


def test_other_scores_read_as_a_percent_to_one_decimal() -> None:
    assert score_text(None) is None
    assert score_text(5 / 6) == "83.3 %"
    assert score_text(0.8) == "80 %"
    assert score_text(1.0) == "100 %"


def test_evidence_scores_describe_as_people_write_them() -> None:
    assert Score(correct=9, total=10).describe() == "9/10"
    assert Score(percent=83.33333).describe() == "83.3 %"
    assert Score(percent=80.0).describe() == "80 %"
    assert Score(rubric_level="secure").describe() == "secure"


def test_a_port_someone_listens_on_is_busy_and_a_free_one_is_not() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert port_busy("127.0.0.1", port) == f"port {port} on 127.0.0.1 is already in use"
    # Closed: free again (SO_REUSEADDR, as uvicorn binds, ignores what TIME_WAIT holds).
    assert port_busy("127.0.0.1", port) is None
