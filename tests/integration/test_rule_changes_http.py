"""A rule change through HTTP on both stores (the present changes, an earlier
as_of does not), n_times on distinct days in each event's own offset; and
the `mastery replay` CLI on an embedded store."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient

from infra.settings import load_settings
from services.app import create_app
from tests.conftest import AUTH
from tests.helpers import attempt, mastery, post, seed_roster
from tests.integration.rules_http_support import (
    LENIENT,
    STRICT,
    explain,
    get,
    history,
    o1,
    put_rule,
    reflection,
    retake,
)


def test_rule_change_changes_the_present_not_an_earlier_as_of(client: TestClient) -> None:
    seed_roster(client, objectives={"o1": LENIENT})
    e8 = attempt(correct=8, at="2026-09-14T09:30:00-05:00")
    out = post(client, e8)
    assert o1(client, out["position"])["status"] == "mastered"
    time.sleep(0.05)
    before_put = datetime.now(UTC).isoformat()
    time.sleep(0.05)

    # Stricter from October 1st (already past: in force now).
    position = put_rule(client, STRICT, "2026-10-01T00:00:00Z")
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
