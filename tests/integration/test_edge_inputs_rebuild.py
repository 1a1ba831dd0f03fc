"""Every accepted edge input of the hostile-input corpus (issue 10) goes
through the live projections and through `mastery rebuild`, which must
agree row for row."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from infra.settings import Settings
from services import cli
from tests.helpers import (
    RULE_9_OF_10,
    attempt,
    ledger_of,
    new_id,
    post,
    projected,
    read_model_rows,
)
from tests.integration.hostile_cases import (
    MAX_COUNT,
    ODD,
    SAFE,
    deep_item,
    objective,
)

# --- live projection and rebuild agree on every accepted edge input ------------


EDGE_STUDENT = (f"s-{ODD}" + "x" * 128)[:128]


def _edge_inputs(c: TestClient) -> int:
    """Store the largest, longest, oddest and earliest/latest values the rules
    accept, through the API; the log position after the last."""
    sid, oid, rid, school = EDGE_STUDENT, "o" * 128, f"r-{ODD}", f"{ODD}-school"
    assert c.put(f"/v1/schools/{school}", json={"name": "N" * 200}).status_code == 201
    r = c.put(f"/v1/students/{sid}", json={"name": ("Ann " * 50)[:200], "grade": ODD, "school_id": school})
    assert r.status_code == 201, r.text
    big = {
        "threshold": {"kind": "correct_of", "min_correct": MAX_COUNT, "of": MAX_COUNT},
        "time_limit_seconds": MAX_COUNT,
        "calculation": {"method": "n_times", "n": 2, "distinct_days": True},
    }
    body = objective(
        statement="S" * 2000, subject=ODD, course="c" * 128, unit=ODD, sequence=MAX_COUNT, rule=big
    )
    body["effective_from"] = "1900-01-01T00:00:00Z"
    assert c.put(f"/v1/objectives/{oid}", json=body).status_code == 201
    levels = [f"{i:02d}" + "L" * 62 for i in range(20)]
    rubric = {"threshold": {"kind": "rubric", "levels": levels, "min_level": levels[10]}}
    assert c.put(f"/v1/objectives/{rid}", json=objective(rule=rubric, prerequisites=[oid])).status_code == 201
    # A revision effective at the latest time: in the log, never in force.
    later = objective(
        statement="S" * 2000, subject=ODD, course="c" * 128, unit=ODD, sequence=0, rule=RULE_9_OF_10
    )
    later["effective_from"] = "2199-12-31T23:59:59+00:00"
    assert c.put(f"/v1/objectives/{oid}", json=later).status_code == 200
    r = c.put(
        f"/v1/classes/{ODD}",
        json={"name": "C" * 200, "school_id": school, "teacher_ids": [ODD], "student_ids": [sid]},
    )
    assert r.status_code == 201, r.text

    now = datetime.now(UTC).isoformat()
    first = {
        **attempt(sid, oid, correct=MAX_COUNT, total=MAX_COUNT, at="1900-01-01T00:00:00Z", form="F" * 32),
        "duration_seconds": 1_000_000,
        "accommodations": {"extended_time_factor": 10},
        "notes": (("a\tb\nc\r\u2028" + ODD) * 1000)[:10_000],
        "items": [
            {"n": i, "max": SAFE, "min": -SAFE, "f": 1.7976931348623157e308, "deep": deep_item(7)["n"]}
            for i in range(500)
        ],
    }
    assert len(first["notes"]) == 10_000
    again = {
        **attempt(sid, oid, correct=MAX_COUNT - 1, total=MAX_COUNT, at="1900-01-01T00:00:00+23:59", form="G"),
        "type": "retake",
        "retake_of": first["event_id"],
    }
    leveled = {**attempt(sid, rid, at=now), "score": {"rubric_level": levels[-1]}}
    reflect = {
        "event_id": new_id(),
        "type": "reflection",
        "student_id": sid,
        "occurred_at": now,
        "on_event": first["event_id"],
        "text": "t" * 10_000,
        "error_analysis": [
            {"item": {"k": [i, None, True, "x" * 100]}, "cause": "c" * 100} for i in range(200)
        ],
    }
    mark = {
        "event_id": new_id(),
        "type": "benchmark",
        "student_id": sid,
        "occurred_at": "1900-01-01T00:00:00-23:59",
        "benchmark_id": f"b-{ODD}",
        "name": "B" * 200,
        # One objective 1,000 times at the largest counts: the projection sums
        # them into one row, 10**9 of 10**9, which every store still holds.
        "results": [{"objective_id": oid, "correct": MAX_COUNT, "total": MAX_COUNT}] * 1000,
    }
    aim = {
        "event_id": new_id(),
        "type": "goal",
        "student_id": sid,
        "occurred_at": now,
        "target_mastered": 100_000,
        "due": "2199-12-31",
    }
    ruling = {
        "event_id": new_id(),
        "type": "override",
        "student_id": sid,
        "occurred_at": "1900-01-02T00:00:00Z",
        "objective_id": rid,
        "status": "mastered",
        "reason": "r" * 10_000,
    }
    undo = {
        "event_id": new_id(),
        "type": "void",
        "student_id": sid,
        "occurred_at": now,
        "target_event_id": again["event_id"],
        "reason": "v" * 10_000,
    }
    post(c, first, again, leveled)
    post(c, reflect, mark, aim)
    return int(post(c, ruling, undo)["position"])


def test_live_projection_and_rebuild_agree_on_every_accepted_edge_input(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = ledger_of(client)
    position = _edge_inputs(client)
    assert projected(ledger, position, 30)
    live = read_model_rows(ledger)
    assert any(EDGE_STUDENT in row for row in live["rm_mastery"]), "the edge inputs were projected"
    assert live["rm_benchmark_results"], live.keys()

    monkeypatch.setenv("MASTERY_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("MASTERY_DATABASE_URL", settings.database_url)
    done = CliRunner().invoke(cli.app, ["rebuild"])
    assert done.exit_code == 0, done.output
    assert read_model_rows(ledger) == live

    # And the live projections go on from there.
    r = client.get(f"/v1/students/{EDGE_STUDENT}/history", params={"min_position": position})
    assert r.status_code == 200, r.text
    assert len(r.json()["events"]) == 8
    # And every read over them answers.
    for url in (
        f"/v1/students/{EDGE_STUDENT}/mastery",
        f"/v1/students/{EDGE_STUDENT}/trajectory",
        f"/v1/students/{EDGE_STUDENT}/objectives/{'o' * 128}/explain",
        f"/v1/classes/{ODD}/mastery-map",
        f"/v1/classes/{ODD}/next",
        f"/v1/classes/{ODD}/groups",
        f"/v1/contradictions?class_id={ODD}",
        f"/v1/schools/{ODD}-school/summary",
        "/v1/objectives",
    ):
        r = client.get(url)
        assert r.status_code == 200, (url, r.text[:300])
    r = client.get("/v1/export", params={"kind": "mastery"})
    assert r.status_code == 200 and EDGE_STUDENT in r.text
