"""An export's typed score columns and its filters, without a store (services/export: scores, filters)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.rules.model import Rule
from domain.rules.versions import RuleVersion
from services.export.filters import Filters
from services.export.scores import NO_SCORE, result_columns, rule_at, score_columns

FOUR = Rule.model_validate(
    {
        "threshold": {
            "kind": "rubric",
            "levels": ["beginning", "developing", "proficient", "advanced"],
            "min_level": "proficient",
        }
    }
)
THREE = Rule.model_validate(
    {"threshold": {"kind": "rubric", "levels": ["novice", "proficient", "expert"], "min_level": "proficient"}}
)


def _at(year: int, month: int = 1, day: int = 1) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def test_each_score_kind_keeps_what_was_sent_and_reads_it_on_a_0_1_scale() -> None:
    assert score_columns({"correct": 9, "total": 10}, None) == {
        "correct": 9,
        "total": 10,
        "percent": None,
        "rubric_level": None,
        "score": 0.9,
    }
    assert score_columns({"percent": 85}, None) == {
        "correct": None,
        "total": None,
        "percent": 85.0,
        "rubric_level": None,
        "score": 0.85,
    }
    assert isinstance(score_columns({"percent": 85}, None)["percent"], float)
    developing = score_columns({"rubric_level": "developing"}, FOUR)
    assert (developing["rubric_level"], developing["score"]) == ("developing", pytest.approx(1 / 3))
    assert score_columns({"rubric_level": "advanced"}, FOUR)["score"] == 1.0
    assert score_columns({"rubric_level": "beginning"}, FOUR)["score"] == 0.0
    # A level the rule does not define, or no rule: the level stays, the score is unknown.
    assert score_columns({"rubric_level": "expert"}, FOUR)["score"] is None
    assert score_columns({"rubric_level": "expert"}, None) == {**NO_SCORE, "rubric_level": "expert"}
    assert score_columns(None, FOUR) == NO_SCORE
    assert result_columns({"objective_id": "o1", "correct": 1, "total": 4})["score"] == 0.25


def test_a_rubric_level_is_read_under_the_rule_in_force_when_it_occurred() -> None:
    versions = [
        RuleVersion(1, FOUR, _at(2025, 8), _at(2025, 8)),
        RuleVersion(2, THREE, _at(2026, 1), _at(2025, 12)),
    ]
    assert rule_at(versions, _at(2025, 10)) == FOUR
    assert rule_at(versions, _at(2026, 1)) == THREE  # from its effective moment on
    assert rule_at(versions, _at(2024, 1)) == FOUR  # before any: the first
    assert rule_at([], _at(2026)) is None
    proficient = {"rubric_level": "proficient"}
    assert score_columns(proficient, rule_at(versions, _at(2025, 10)))["score"] == pytest.approx(2 / 3)
    assert score_columns(proficient, rule_at(versions, _at(2026, 2)))["score"] == 0.5


def test_filters_fit_their_kinds_and_cut_half_open() -> None:
    window = Filters(None, _at(2026, 1), _at(2026, 2))
    assert window.occurred(_at(2026, 1)) and not window.occurred(_at(2026, 2))
    assert not window.occurred(_at(2025, 12, 31))
    assert window.problems("events") == window.problems("mastery") == []
    assert [e["loc"] for e in window.problems("roster")] == [["query", "from"], ["query", "to"]]
    assert [e["loc"] for e in Filters("sch1").problems("objectives")] == [["query", "school_id"]]
    assert Filters("sch1").problems("roster") == []
    assert [e["loc"] for e in Filters(None, _at(2026), _at(2026)).problems("events")] == [["query", "to"]]
    assert Filters().occurred(_at(1900))
