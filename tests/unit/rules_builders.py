"""Builders for rule-engine unit tests: records and rules in a line each, no I/O.

Times default to a Chicago classroom (UTC−5) in September 2026; `seq` is the
recording order and is handed out in call order unless a test says otherwise.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from domain.records import Evidence, LearningRecord, Meta, Override, OverrideStatus, Reflection, Score, Void
from domain.rules.model import Rule
from domain.rules.status import Status, compute_status
from domain.rules.versions import RuleVersion

CDT = timezone(timedelta(hours=-5))
FAR = datetime(2030, 1, 1, tzinfo=UTC)

_seq = itertools.count(1)
_ids = itertools.count(1)


def day(d: int, hour: int = 9, minute: int = 30, tz: timezone = CDT) -> datetime:
    """A time on September `d`, 2026 (d may run past 30 into October)."""
    return datetime(2026, 9, 1, hour, minute, tzinfo=tz) + timedelta(days=d - 1)


def meta(at: datetime, event_id: str | None = None, seq: int | None = None) -> Meta:
    n = next(_seq) if seq is None else seq
    eid = event_id or f"e{next(_ids)}"
    return Meta(eid, n, at, at + timedelta(minutes=1), "teacher:t1")


def score_of(correct: int | None, total: int, percent: float | None, level: str | None) -> Score:
    if percent is not None:
        return Score(percent=percent)
    if level is not None:
        return Score(rubric_level=level)
    return Score(correct=correct, total=total)


def ev(
    correct: int | None = 9,
    total: int = 10,
    *,
    at: datetime | None = None,
    percent: float | None = None,
    level: str | None = None,
    form: str = "A",
    kind: str = "quiz",
    duration: float | None = None,
    factor: float = 1.0,
    retake_of: str | None = None,
    oid: str = "o1",
    eid: str | None = None,
    seq: int | None = None,
) -> Evidence:
    return Evidence(
        meta=meta(at or day(14), eid, seq),
        objective_id=oid,
        form=form,
        kind=kind,
        score=score_of(correct, total, percent, level),
        duration_seconds=duration,
        extended_time_factor=factor,
        retake_of=retake_of,
    )


def reflection(on: str, at: datetime, eid: str | None = None, seq: int | None = None) -> Reflection:
    return Reflection(meta(at, eid, seq), on)


def override(
    status: OverrideStatus,
    at: datetime,
    eid: str | None = None,
    seq: int | None = None,
) -> Override:
    return Override(meta(at, eid, seq), "o1", status)


def void(target: str, at: datetime, eid: str | None = None, seq: int | None = None) -> Void:
    return Void(meta(at, eid, seq), target)


def rule(
    threshold: dict[str, Any], method: str = "latest", time_limit: int | None = None, **calc: Any
) -> Rule:
    return Rule.model_validate(
        {
            "threshold": threshold,
            "time_limit_seconds": time_limit,
            "calculation": {"method": method, **calc},
        }
    )


NINE_OF_TEN: dict[str, Any] = {"kind": "correct_of", "min_correct": 9, "of": 10}
FOUR_OF_FIVE: dict[str, Any] = {"kind": "correct_of", "min_correct": 4, "of": 5}
POWER_UP_80: dict[str, Any] = {"kind": "percent", "min": 80}
LEVELS = ["beginning", "developing", "proficient", "exemplary"]
RUBRIC: dict[str, Any] = {"kind": "rubric", "levels": LEVELS, "min_level": "proficient"}


def version(n: int, r: Rule, effective: datetime, recorded: datetime | None = None) -> RuleVersion:
    return RuleVersion(n, r, effective, recorded or effective)


def status_of(
    r: Rule | Sequence[RuleVersion],
    records: Iterable[LearningRecord],
    at: datetime = FAR,
    *,
    lines: bool = False,
) -> Status:
    versions = [version(1, r, day(1))] if isinstance(r, Rule) else list(r)
    return compute_status("o1", versions, list(records), at, with_lines=lines)
