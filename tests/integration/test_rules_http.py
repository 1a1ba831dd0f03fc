"""Mastery rules through HTTP on both stores: flags, overrides, voids, explain,
as_of / known_at on mastery, history and explain."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from tests.helpers import attempt, mastery, post, seed_roster
from tests.integration.rules_http_support import (
    TIMED_9_OF_10,
    explain,
    history,
    o1,
    override,
    reflection,
    retake,
    void,
)


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
