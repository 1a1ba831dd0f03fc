"""Live processing equals a replay from the log (CONTRACT.md §4).

Random event sequences go in through HTTP in several batches, in an arrival
order unrelated to when things occurred, with a rule change in the middle.
The read model the projections keep live must equal the replay of the store
(`?known_at=<now>` and `?as_of=<far future>`), which runs the same pure
function over the log. (tests/integration/test_rebuild.py compares a rebuild
with the projections run over the log in log order.)
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import mastery, new_id, post, seed_roster

LEVELS = ["beginning", "developing", "proficient", "exemplary"]
OBJECTIVES: dict[str, dict[str, Any]] = {
    "o-latest": {"threshold": {"kind": "correct_of", "min_correct": 9, "of": 10}, "time_limit_seconds": 600},
    "o-highest": {"threshold": {"kind": "percent", "min": 80}, "calculation": {"method": "highest"}},
    "o-ntimes": {
        "threshold": {"kind": "correct_of", "min_correct": 4, "of": 5},
        "calculation": {"method": "n_times", "n": 2, "distinct_days": True},
    },
    "o-average": {"threshold": {"kind": "percent", "min": 70}, "calculation": {"method": "average"}},
    "o-decay": {
        "threshold": {"kind": "correct_of", "min_correct": 4, "of": 5},
        "calculation": {"method": "decaying_average"},
        "time_limit_seconds": 300,
    },
    "o-bkt": {
        "threshold": {"kind": "correct_of", "min_correct": 9, "of": 10},
        "calculation": {"method": "bkt"},
    },
    "o-rubric": {"threshold": {"kind": "rubric", "levels": LEVELS, "min_level": "proficient"}},
}
STUDENTS = ("s1", "s2", "s3")
OFFSETS = [timezone(timedelta(hours=h)) for h in (-5, -8, 0, 1)]


class History:
    """Random learning events whose references point only to earlier arrivals."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.evidence: dict[tuple[str, str], list[str]] = {}
        self.any_event: dict[str, list[str]] = {}

    def when(self) -> str:
        d = datetime(2026, 9, 1, 7, 0, tzinfo=UTC) + timedelta(
            days=self.rng.randint(0, 40), hours=self.rng.choice([0, 2, 5, 13, 16])
        )
        return d.astimezone(self.rng.choice(OFFSETS)).isoformat()

    def score(self, oid: str) -> dict[str, Any]:
        if oid == "o-rubric":
            return {"rubric_level": self.rng.choice(LEVELS)}
        if oid in ("o-highest", "o-average"):
            return {"percent": self.rng.choice([50, 69.5, 70, 79, 80, 95])}
        total = self.rng.choice([5, 10])
        return {"correct": self.rng.randint(total // 2, total), "total": total}

    def event(self) -> dict[str, Any]:
        rng = self.rng
        sid = rng.choice(STUDENTS)
        oid = rng.choice(list(OBJECTIVES))
        eid = new_id()
        base: dict[str, Any] = {"event_id": eid, "student_id": sid, "occurred_at": self.when()}
        earlier = self.evidence.get((sid, oid), [])
        kinds = ["attempt"] * 4 + ["override"]
        if earlier:
            kinds += ["retake"] * 2 + ["reflection"] * 2
        if self.any_event.get(sid):
            kinds.append("void")
        kind = rng.choice(kinds)
        if kind in ("attempt", "retake"):
            ev = {
                **base,
                "type": kind,
                "objective_id": oid,
                "form": rng.choice("AB"),
                "evidence": rng.choice(["quiz", "exit_ticket", "oral"]),
                "score": self.score(oid),
                "duration_seconds": rng.choice([120, 290, 450, 700]),
            }
            if rng.random() < 0.3:
                ev["accommodations"] = {"extended_time_factor": 1.5}
            if kind == "retake":
                ev["retake_of"] = rng.choice(earlier)
            self.evidence.setdefault((sid, oid), []).append(eid)
        elif kind == "reflection":
            ev = {**base, "type": "reflection", "on_event": rng.choice(earlier), "text": "what went wrong"}
        elif kind == "override":
            status = rng.choice(["mastered", "not_mastered", "cleared"])
            ev = {**base, "type": "override", "objective_id": oid, "status": status, "reason": "conference"}
        else:
            target = rng.choice(self.any_event[sid])
            ev = {**base, "type": "void", "target_event_id": target, "reason": "correction"}
        self.any_event.setdefault(sid, []).append(eid)
        return ev


def _objectives(c: TestClient, student: str, position: int, **params: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = mastery(c, student, position, **params)["objectives"]
    return items


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_live_read_model_equals_replay_of_the_log(client: TestClient, seed: int) -> None:
    rng = random.Random(seed)
    seed_roster(client, students=STUDENTS, objectives=OBJECTIVES)
    history = History(rng)
    events = [history.event() for _ in range(rng.randint(80, 140))]
    position = 0
    i = 0
    batches = 0
    while i < len(events):
        size = rng.randint(1, 40)
        position = post(client, *events[i : i + size])["position"]
        i += size
        batches += 1
        if batches == 2:
            # A rule change part-way, effective in the past: the present follows it.
            stricter = {
                **OBJECTIVES["o-latest"],
                "threshold": {"kind": "correct_of", "min_correct": 10, "of": 10},
            }
            body = {
                "statement": "Objective o-latest",
                "subject": "math",
                "course": "algebra-1",
                "unit": "u1",
                "rule": stricter,
                "effective_from": "2026-09-20T00:00:00Z",
            }
            r = client.put("/v1/objectives/o-latest", json=body)
            assert r.status_code in (200, 201), r.text
            position = r.json()["position"]
    assert batches >= 2

    compared = 0
    for sid in STUDENTS:
        live = _objectives(client, sid, position)
        now = datetime.now(UTC).isoformat()
        assert live == _objectives(client, sid, position, known_at=now), sid
        assert live == _objectives(client, sid, position, as_of="2100-01-01T00:00:00Z"), sid
        compared += len(live)
    assert compared > 0
    # The sequences were rich enough to exercise what they are meant to.
    statuses = {o["status"] for sid in STUDENTS for o in _objectives(client, sid, position)}
    assert statuses >= {"mastered", "in_progress"}
