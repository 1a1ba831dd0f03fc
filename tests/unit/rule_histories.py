"""Hypothesis strategies for the rule engine's property tests: rule versions
(a threshold and a calculation method each, effective at drawn times) and
histories mixing attempts, retakes, reflections, overrides and voids with
`occurred_at` drawn from a few slots so that ties are common; `seq` is the
recording order and references point only to earlier events, as ingest
guarantees."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from domain.records import LearningRecord, OverrideStatus
from domain.rules.versions import RuleVersion
from tests.unit.rules_builders import (
    FOUR_OF_FIVE,
    NINE_OF_TEN,
    POWER_UP_80,
    day,
    ev,
    override,
    reflection,
    rule,
    version,
    void,
)

CALCULATIONS: list[dict[str, Any]] = [
    {"method": "latest"},
    {"method": "highest"},
    {"method": "n_times", "n": 2},
    {"method": "n_times", "n": 2, "distinct_days": True},
    {"method": "average"},
    {"method": "decaying_average"},
    {"method": "decaying_average", "weight": 0.5},
    {"method": "bkt"},
    {"method": "bkt", "prior": 0.5, "learn": 0.3, "mastery_probability": 0.9},
]


THRESHOLDS = [NINE_OF_TEN, FOUR_OF_FIVE, POWER_UP_80]


SLOTS = [(d, h) for d in range(2, 7) for h in (9, 14)]


@st.composite
def rule_versions(draw: st.DrawFn) -> list[RuleVersion]:
    def one() -> Any:
        calc = dict(draw(st.sampled_from(CALCULATIONS)))
        method = calc.pop("method")
        limit = draw(st.sampled_from([None, 600]))
        return rule(draw(st.sampled_from(THRESHOLDS)), method, limit, **calc)

    versions = [version(1, one(), day(1, 0, 0))]
    if draw(st.booleans()):
        versions.append(version(2, one(), day(draw(st.integers(2, 6)), 12, 0)))
    return versions


@st.composite
def histories(draw: st.DrawFn) -> list[LearningRecord]:
    n = draw(st.integers(1, 14))
    recs: list[LearningRecord] = []
    evidence: list[str] = []
    for i in range(n):
        d, h = draw(st.sampled_from(SLOTS))
        at = day(d, h, 0)
        seq, eid = i + 1, f"x{i}"
        kinds = ["attempt", "attempt", "override"]
        if evidence:
            kinds += ["retake", "reflection", "reflection"]
        if recs:
            kinds += ["void"]
        kind = draw(st.sampled_from(kinds))
        if kind in ("attempt", "retake"):
            retake_of = draw(st.sampled_from(evidence)) if kind == "retake" else None
            duration = draw(st.sampled_from([None, 300.0, 700.0]))
            factor = draw(st.sampled_from([1.0, 1.5]))
            percent = draw(st.sampled_from([None, 55.0, 79.5, 80.0, 90.0, 100.0]))
            e = ev(
                draw(st.integers(0, 10)),
                10,
                percent=percent,
                at=at,
                form=draw(st.sampled_from(["A", "B"])),
                duration=duration,
                factor=factor,
                retake_of=retake_of,
                eid=eid,
                seq=seq,
            )
            recs.append(e)
            evidence.append(eid)
        elif kind == "reflection":
            recs.append(reflection(draw(st.sampled_from(evidence)), at, eid=eid, seq=seq))
        elif kind == "override":
            status: OverrideStatus = draw(st.sampled_from(["mastered", "not_mastered", "cleared"]))
            recs.append(override(status, at, eid=eid, seq=seq))
        else:
            target = draw(st.sampled_from([r.meta.event_id for r in recs]))
            recs.append(void(target, at, eid=eid, seq=seq))
    return recs
