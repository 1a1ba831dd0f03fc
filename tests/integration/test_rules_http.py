"""Mastery rules through HTTP on both stores: flags, overrides, voids, explain,
as_of / known_at on mastery, history and explain, a rule change; and the
`mastery replay` CLI on an embedded store."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from infra.settings import load_settings
from services.app import create_app
from tests.conftest import AUTH
from tests.helpers import attempt, mastery, new_id, post, seed_roster

TIMED_9_OF_10: dict[str, Any] = {
    "threshold": {"kind": "correct_of", "min_correct": 9, "of": 10},
    "time_limit_seconds": 600,
}
LENIENT = {"threshold": {"kind": "correct_of", "min_correct": 7, "of": 10}}
STRICT = {"threshold": {"kind": "correct_of", "min_correct": 9, "of": 10}}


def retake(of: dict[str, Any], correct: int, at: str, form: str, **extra: Any) -> dict[str, Any]:
    return {
        **attempt(correct=correct, at=at, form=form, **extra),
        "type": "retake",
        "retake_of": of["event_id"],
    }


def reflection(on: dict[str, Any], at: str, text: str = "I dropped the negative sign") -> dict[str, Any]:
    return {
        "event_id": new_id(),
        "type": "reflection",
        "student_id": "s1",
        "occurred_at": at,
        "on_event": on["event_id"],
        "text": text,
        "error_analysis": [{"item": 4, "cause": "sign error"}],
    }


def override(status: str, at: str, reason: str = "showed it in conference") -> dict[str, Any]:
    return {
        "event_id": new_id(),
        "type": "override",
        "student_id": "s1",
        "occurred_at": at,
        "objective_id": "o1",
        "status": status,
        "reason": reason,
    }


def void(target: dict[str, Any], at: str) -> dict[str, Any]:
    return {
        "event_id": new_id(),
        "type": "void",
        "student_id": "s1",
        "occurred_at": at,
        "target_event_id": target["event_id"],
        "reason": "entered twice",
    }


def o1(c: TestClient, position: int, **params: str) -> dict[str, Any]:
    (only,) = mastery(c, "s1", position, **params)["objectives"]
    assert only["objective_id"] == "o1"
    found: dict[str, Any] = only
    return found


def get(c: TestClient, path: str, **params: str) -> dict[str, Any]:
    r = c.get(path, params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def explain(c: TestClient, **params: str) -> dict[str, Any]:
    return get(c, "/v1/students/s1/objectives/o1/explain", **params)


def history(c: TestClient, **params: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = get(c, "/v1/students/s1/history", **params)["events"]
    return events


def test_retake_flags_and_explain(client: TestClient) -> None:
    seed_roster(client, objectives={"o1": TIMED_9_OF_10})
    miss = attempt(correct=6, at="2026-09-14T09:30:00-05:00", form="A", duration_seconds=540)
    slow = attempt(
        correct=10,
        at="2026-09-15T09:30:00-05:00",
        form="B",
        duration_seconds=1000,
        accommodations={"extended_time_factor": 1.5},
    )
    same_form = retake(miss, 9, "2026-09-16T09:30:00-05:00", "A", duration_seconds=500)
    out = post(client, miss, slow, same_form)
    s = o1(client, out["position"])
    assert (s["status"], s["source"], s["deciding_event_id"]) == (
        "mastered",
        "evidence",
        same_form["event_id"],
    )
    assert s["flags"] == ["reflection_missing", "same_form_retake"]
    assert s["evidence_count"] == 3

    # The error analysis, written on the 15th, arrives after the retake: the flag clears.
    refl = reflection(miss, "2026-09-15T14:00:00-05:00")
    out = post(client, refl)
    assert o1(client, out["position"])["flags"] == ["same_form_retake"]

    e = explain(client)
    assert (e["status"], e["source"], e["deciding_event_id"]) == (
        "mastered",
        "evidence",
        same_form["event_id"],
    )
    assert e["rule"]["version"] == 1
    assert e["rule"]["rule"]["threshold"] == TIMED_9_OF_10["threshold"]
    assert e["rule"]["rule"]["time_limit_seconds"] == 600
    assert e["sentence"] == (
        "Mastered. The latest evidence (quiz form A on 2026-09-16) meets the threshold: "
        "score 9/10 meets 9 of 10 correct."
    )
    lines = {line["event_id"]: line for line in e["evidence"]}
    assert [line["event_id"] for line in e["evidence"]] == [
        miss["event_id"],
        slow["event_id"],
        same_form["event_id"],
    ]
    m = lines[miss["event_id"]]
    assert (m["meets_threshold"], m["counted"], m["reason"]) == (
        False,
        True,
        "score 6/10 is below 9 of 10 correct",
    )
    assert [r["event_id"] for r in m["reflections"]] == [refl["event_id"]]
    assert m["reflections"][0]["text"] == "I dropped the negative sign"
    assert m["reflections"][0]["error_analysis"] == [{"item": 4, "cause": "sign error"}]
    sl = lines[slow["event_id"]]
    assert (sl["meets_threshold"], sl["score"]) == (False, "10/10")
    assert sl["reason"] == (
        "took 1000 s, over the 900 s allowed (the 600 s limit × 1.5 extended time); counts as a miss"
    )
    r = lines[same_form["event_id"]]
    assert (r["type"], r["form"], r["meets_threshold"], r["reflections"]) == ("retake", "A", True, [])


def test_overrides_in_mastery_history_and_explain(client: TestClient) -> None:
    seed_roster(client)
    first = attempt(correct=9, at="2026-09-14T09:30:00-05:00")
    nm = override("not_mastered", "2026-09-15T10:00:00-05:00", reason="answers copied")
    out = post(client, first, nm)
    s = o1(client, out["position"])
    assert (s["status"], s["source"], s["deciding_event_id"], s["flags"]) == (
        "in_progress",
        "override",
        nm["event_id"],
        [],
    )

    later = attempt(correct=10, at="2026-09-17T09:30:00-05:00", form="B")
    out = post(client, later)
    s = o1(client, out["position"])
    assert (s["status"], s["flags"]) == ("in_progress", ["override_contradicted"])

    replaced = override("mastered", "2026-09-18T10:00:00-05:00", reason="redone in front of me")
    out = post(client, replaced)
    s = o1(client, out["position"])
    assert (s["status"], s["source"], s["deciding_event_id"], s["flags"]) == (
        "mastered",
        "override",
        replaced["event_id"],
        [],
    )
    assert s["mastered_at"].startswith("2026-09-18T10:00:00")

    e = explain(client)
    assert [o["status"] for o in e["overrides"]] == ["not_mastered", "mastered"]
    assert e["overrides"][1]["reason"] == "redone in front of me"
    # The reason is personal data, shown beside the sentence (and erased with the student).
    assert e["sentence"] == "A teacher override (mastered, 2026-09-18) decides"
    assert all(line["reason"].endswith("superseded by the override of 2026-09-18") for line in e["evidence"])

    cleared = override("cleared", "2026-09-19T10:00:00-05:00", reason="back to the evidence")
    out = post(client, cleared)
    s = o1(client, out["position"])
    assert (s["status"], s["source"], s["deciding_event_id"]) == ("mastered", "evidence", later["event_id"])

    trail = history(client)
    assert [(h["type"], h["status_after"]) for h in trail] == [
        ("attempt", "mastered"),
        ("override", "in_progress"),
        ("attempt", "in_progress"),
        ("override", "mastered"),
        ("override", "mastered"),
    ]
    assert trail[1]["payload"]["reason"] == "answers copied"
    assert trail[1]["recorded_by"]


def test_void_and_void_of_void_in_history_and_mastery(client: TestClient) -> None:
    seed_roster(client)
    good = attempt(correct=9, at="2026-09-14T09:30:00-05:00")
    typo = attempt(correct=2, at="2026-09-15T09:30:00-05:00")
    out = post(client, good, typo)
    assert o1(client, out["position"])["status"] == "in_progress"
    v1 = void(typo, "2026-09-15T12:00:00-05:00")
    out = post(client, v1)
    s = o1(client, out["position"])
    assert (s["status"], s["evidence_count"], s["deciding_event_id"]) == ("mastered", 1, good["event_id"])
    trail = history(client)
    assert [(h["event_id"], h["voided"]) for h in trail] == [
        (good["event_id"], False),
        (typo["event_id"], True),
        (v1["event_id"], False),
    ]
    line = next(x for x in explain(client)["evidence"] if x["event_id"] == typo["event_id"])
    assert (line["counted"], line["reason"]) == (False, "voided; it no longer counts")

    v2 = void(v1, "2026-09-16T12:00:00-05:00")
    out = post(client, v2)
    assert o1(client, out["position"])["status"] == "in_progress"
    assert [h["voided"] for h in history(client)] == [False, False, True, False]


def test_as_of_and_known_at_on_mastery_history_and_explain(client: TestClient) -> None:
    seed_roster(client)
    passed = attempt(correct=9, at="2026-09-10T09:30:00-05:00")
    out = post(client, passed)
    assert o1(client, out["position"])["status"] == "mastered"
    time.sleep(0.05)
    between = datetime.now(UTC).isoformat()
    time.sleep(0.05)
    # Recorded later, occurred on the 12th: a miss that changes the present.
    late_miss = attempt(correct=5, at="2026-09-12T09:30:00-05:00")
    out = post(client, late_miss)
    now = o1(client, out["position"])
    assert now["status"] == "in_progress"

    # as_of cuts on occurred_at.
    assert o1(client, out["position"], as_of="2026-09-11T00:00:00Z")["status"] == "mastered"
    assert o1(client, out["position"], as_of="2026-09-13T00:00:00Z") == now
    # known_at cuts on recorded_at: before the miss was entered, the student had mastered it.
    known = mastery(client, "s1", out["position"], known_at=between)
    assert known["known_at"] is not None
    assert [o["status"] for o in known["objectives"]] == ["mastered"]
    assert o1(client, out["position"], known_at=datetime.now(UTC).isoformat()) == now
    # Both at once.
    both = o1(client, out["position"], as_of="2026-09-13T00:00:00Z", known_at=between)
    assert both["deciding_event_id"] == passed["event_id"]

    assert [h["event_id"] for h in history(client, known_at=between)] == [passed["event_id"]]
    assert [h["event_id"] for h in history(client, as_of="2026-09-11T00:00:00Z")] == [passed["event_id"]]
    assert [h["status_after"] for h in history(client)] == ["mastered", "in_progress"]

    e = explain(client, known_at=between)
    assert (e["status"], [x["event_id"] for x in e["evidence"]]) == ("mastered", [passed["event_id"]])
    assert e["known_at"] is not None
    e2 = explain(client, as_of="2026-09-13T00:00:00Z")
    assert (e2["status"], len(e2["evidence"])) == ("in_progress", 2)

    # A time without an offset is refused.
    r = client.get("/v1/students/s1/mastery", params={"as_of": "2026-09-13T00:00:00"})
    assert r.status_code == 422


def _put_rule(c: TestClient, rule: dict[str, Any], effective_from: str) -> int:
    body = {
        "statement": "Objective o1",
        "subject": "math",
        "course": "algebra-1",
        "unit": "u1",
        "rule": rule,
        "effective_from": effective_from,
    }
    r = c.put("/v1/objectives/o1", json=body)
    assert r.status_code in (200, 201), r.text
    position: int = r.json()["position"]
    return position


def test_rule_change_changes_the_present_not_an_earlier_as_of(client: TestClient) -> None:
    seed_roster(client, objectives={"o1": LENIENT})
    e8 = attempt(correct=8, at="2026-09-14T09:30:00-05:00")
    out = post(client, e8)
    assert o1(client, out["position"])["status"] == "mastered"
    time.sleep(0.05)
    before_put = datetime.now(UTC).isoformat()
    time.sleep(0.05)

    # Stricter from October 1st (already past: in force now).
    position = _put_rule(client, STRICT, "2026-10-01T00:00:00Z")
    now = o1(client, position)
    assert (now["status"], now["deciding_event_id"]) == ("in_progress", e8["event_id"])
    # The read model and the replay agree on the present.
    assert o1(client, position, known_at=datetime.now(UTC).isoformat()) == now
    # September keeps September's rule.
    assert o1(client, position, as_of="2026-09-20T00:00:00Z")["status"] == "mastered"
    # Before the new version was recorded, its rule was unknown even for October.
    assert o1(client, position, as_of="2026-10-15T00:00:00Z", known_at=before_put)["status"] == "mastered"

    sept = explain(client, as_of="2026-09-20T00:00:00Z")
    assert (sept["rule"]["version"], sept["rule"]["rule"]["threshold"]["min_correct"]) == (1, 7)
    octo = explain(client)
    assert (octo["rule"]["version"], octo["rule"]["rule"]["threshold"]["min_correct"]) == (2, 9)
    assert octo["evidence"][0]["reason"] == "score 8/10 is below 9 of 10 correct"
    versions = get(client, "/v1/objectives/o1")["rule_versions"]
    assert [v["version"] for v in versions] == [1, 2]
    # History judges each event by the rule in force when it occurred.
    assert [h["status_after"] for h in history(client)] == ["mastered"]


def test_n_times_distinct_days_over_http_keeps_each_events_own_offset(client: TestClient) -> None:
    rule = {
        "threshold": STRICT["threshold"],
        "calculation": {"method": "n_times", "n": 2, "distinct_days": True},
    }
    seed_roster(client, objectives={"o1": rule})
    # 23:30 on the 14th and 00:30 on the 15th in Chicago: both the 15th in UTC.
    out = post(
        client,
        attempt(correct=9, at="2026-09-14T23:30:00-05:00"),
        attempt(correct=9, at="2026-09-15T00:30:00-05:00"),
    )
    assert o1(client, out["position"])["status"] == "mastered"
    # 08:00 and 20:00 on the 16th in Chicago: the 16th and the 17th in UTC, one local day.
    seed_roster(client, students=("s1", "s2"), objectives={"o1": rule})
    s2 = [
        {**attempt(student="s2", correct=9, at="2026-09-16T08:00:00-05:00")},
        {**attempt(student="s2", correct=9, at="2026-09-16T20:00:00-05:00")},
    ]
    out = post(client, *s2)
    (only,) = mastery(client, "s2", out["position"])["objectives"]
    assert only["status"] == "in_progress"


def test_replay_cli_prints_history_as_of_and_known_at(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = load_settings(data_dir=data, bootstrap_token="cli-boot")
    with TestClient(create_app(settings)) as c:
        c.headers.update({"Authorization": "Bearer cli-boot"})
        seed_roster(c)
        miss = attempt(correct=6, at="2026-09-14T09:30:00-05:00", form="A")
        refl = reflection(miss, "2026-09-14T14:00:00-05:00", text="forgot to distribute")
        post(c, miss, refl)
        time.sleep(0.05)
        between = datetime.now(UTC).isoformat()
        time.sleep(0.05)
        post(c, retake(miss, 10, "2026-09-16T09:30:00-05:00", "B"))
        post(c, attempt(correct=3, at="2026-09-20T09:30:00-05:00", form="C"))
    env = {**os.environ, "COLUMNS": "250", "MASTERY_DATA_DIR": str(data)}
    env.pop("MASTERY_DATABASE_URL", None)
    mastery_bin = Path(sys.executable).with_name("mastery")

    def replay(*args: str) -> list[str]:
        done = subprocess.run(
            [str(mastery_bin), "replay", "s1", "--data-dir", str(data), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()

    full = replay()
    rows = [line for line in full if "2026-09-" in line]
    assert len(rows) == 4
    assert "attempt" in rows[0] and "quiz form A: 6/10" in rows[0] and "in_progress" in rows[0]
    assert "reflection" in rows[1] and "forgot to distribute" in rows[1]
    assert "retake" in rows[2] and "quiz form B: 10/10" in rows[2] and "mastered" in rows[2]
    assert "quiz form C: 3/10" in rows[3] and rows[3].rstrip(" │|").endswith("in_progress")
    assert full[-1] == "4 events"

    # As of the 17th (nothing after it occurred) and as known before the retake was entered.
    cut = replay("--as-of", "2026-09-17T00:00:00-05:00", "--known-at", between)
    rows = [line for line in cut if "2026-09-" in line]
    assert len(rows) == 2
    assert "quiz form A: 6/10" in rows[0] and "forgot to distribute" in rows[1]
    assert cut[-1] == "2 events"
    assert "10/10" not in "\n".join(cut)

    only_as_of = replay("--as-of", "2026-09-17T00:00:00-05:00")
    assert only_as_of[-1] == "3 events"

    bad = subprocess.run(
        [str(mastery_bin), "replay", "s1", "--data-dir", str(data), "--as-of", "2026-09-17T00:00:00"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert bad.returncode != 0
    assert AUTH  # the suite's own token is not used here: the CLI reads the store directly
