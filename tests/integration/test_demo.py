"""`mastery demo`: a deterministic district, loaded once, with reproducible tokens;
and a demo school year as the store shows it (tests/unit/test_demo_district.py
holds the generator's own properties)."""

from __future__ import annotations

import collections
import json
import subprocess
import sys
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from infra.readmodels import mastery_current
from infra.settings import load_settings
from services.bootstrap import build_ledger
from services.demo.load import backfill, load_roster
from services.demo.prepare import MIGRATED_BY, demo_district
from services.demo.recording import SYNC_RECORDER
from services.query.summaries import MIN_CELL_SIZE
from tests.helpers import ledger_of, projected

MASTERY = str(Path(sys.executable).with_name("mastery"))


def _demo(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MASTERY, "demo", "--no-serve", "--students", "30", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _tokens(stdout: str) -> list[str]:
    return [
        line.split()[1] for line in stdout.splitlines() if line.strip().startswith(("admin ", "teacher "))
    ]


def test_demo_loads_once_and_prints_the_same_tokens(tmp_path: Path) -> None:
    first = _demo(tmp_path / "d")
    assert first.returncode == 0, first.stderr
    assert "Loaded the demo district" in first.stdout
    assert "Dashboards: http://127.0.0.1:8000/ " in first.stdout
    assert {line.split()[0] for line in first.stdout.splitlines() if line.startswith("  ")} >= {
        "admin",
        "teacher",
        "student",
        "guardian",
        "leader",
        "auditor",
        "analyst",
    }
    again = _demo(tmp_path / "d")
    assert again.returncode == 0, again.stderr
    assert "Reusing the demo district" in again.stdout
    assert _tokens(first.stdout) == _tokens(again.stdout) and len(_tokens(first.stdout)) == 2

    with closing(build_ledger(load_settings(data_dir=tmp_path / "d"))) as ledger:
        head = ledger.store.head_position()
        assert ledger.runner.position() == head  # the read models were caught up before serving
        with ledger.engine.connect() as conn:
            rows = conn.execute(select(mastery_current)).fetchall()
        statuses = collections.Counter(r.status for r in rows)
        assert statuses["mastered"] and statuses["in_progress"], statuses
        assert {r.student_id for r in rows} >= {f"stu-{i:06d}" for i in range(30)}  # everyone has a history
        # The teacher's token is a teacher of the district, scoped to all of their
        # classes: what it records reads as the year loaded before it did.
        teacher = ledger.tokens.authenticate(_tokens(first.stdout)[1])
        district, _ = demo_district(30, 7, datetime.now(UTC))
        assert teacher is not None and teacher.scopes
        classes = {f"class:{s.class_id}": s for s in district.roster.sections}
        teachers = {classes[c].teacher for c in teacher.scopes}
        assert len(teachers) == 1 and teacher.recorded_by == teachers.pop().recorded_by
        same = {c for c, s in classes.items() if s.teacher.recorded_by == teacher.recorded_by}
        assert set(teacher.scopes) == same
        # The holders were kept with the demo, so a second run prints the same scopes.
        assert json.loads((tmp_path / "d" / "demo.json").read_text())["holders"]["teacher_classes"]
        printed = [line for line in first.stdout.splitlines() if line.startswith("  ")]
        assert printed == [line for line in again.stdout.splitlines() if line.startswith("  ")]

    other = _demo(tmp_path / "d", "--seed", "8")
    assert other.returncode == 2
    assert len(other.stderr.strip().splitlines()) == 1 and "seed 7" in other.stderr

    # An interrupted load leaves data without the marker: refused, saying how to go on.
    (tmp_path / "d" / "demo.json").unlink()
    interrupted = _demo(tmp_path / "d")
    assert interrupted.returncode == 2
    assert interrupted.stderr.strip().splitlines() == [
        f"mastery: {tmp_path / 'd'} holds data but no finished demo (real data, or a demo load that was "
        "interrupted); remove it (make clean) or use another --data-dir"
    ]


def test_a_demo_school_year_as_the_store_shows_it(client: TestClient) -> None:
    """2025-26, whole, for 60 students through the backfill path: who recorded
    what and when survives into the audit trail, the small school's summary
    is suppressed, and benchmarks contradict recorded mastery now and then,
    not everywhere."""
    ledger = ledger_of(client)
    district, cut = demo_district(60, 7, datetime(2026, 7, 1, tzinfo=UTC))
    load_roster(ledger, district)
    happenings = list(district.school_year(cut))
    assert backfill(ledger, iter(happenings), MIGRATED_BY, "demo") == len(happenings)
    head = {"min_position": ledger.store.head_position()}
    # A year of events is more than a read waits for (5 s) on a loaded machine,
    # through Kafka above all: the reads below start once it is all applied.
    assert projected(ledger, head["min_position"], timeout=120)

    section = district.roster.sections[0]
    student = section.members[0]
    history = client.get(f"/v1/students/{student}/history", params=head).json()["events"]
    mine = [h for h in happenings if h.event["student_id"] == student]
    assert len(history) == len(mine)
    recorded = {h.event["event_id"]: (h.recorded_at, h.recorded_by) for h in mine}
    for e in history:
        at, by = recorded[e["event_id"]]
        assert (datetime.fromisoformat(e["recorded_at"]), e["recorded_by"]) == (at, by)
        assert e["migrated_by"] == MIGRATED_BY
    recorders = {e["recorded_by"] for e in history}
    assert recorders == {section.teacher.recorded_by, f"student:{student}", SYNC_RECORDER}
    # known_at means something: at the end of a day the student's teacher had not yet entered everything.
    lagging = [e for e in history if e["recorded_at"][:10] > e["occurred_at"][:10]]
    assert lagging
    day_end = lagging[0]["occurred_at"][:10] + "T23:59:59-05:00"
    as_of = client.get(f"/v1/students/{student}/history", params={**head, "as_of": day_end}).json()
    known = client.get(
        f"/v1/students/{student}/history", params={**head, "as_of": day_end, "known_at": day_end}
    )
    assert len(known.json()["events"]) < len(as_of["events"])

    small = district.schools()[-1]
    summary = client.get(f"/v1/schools/{small}/summary", params=head).json()
    assert summary["groups"] and all(g["suppressed"] for g in summary["groups"])
    assert all(c["suppressed"] for c in summary["cells"])
    big = client.get(f"/v1/schools/{district.schools()[0]}/summary", params=head).json()
    assert all(g["students"] >= MIN_CELL_SIZE for g in big["groups"])

    # Contradictions: a few a class, out of every benchmark result there.
    results = collections.Counter(
        district.roster.section_of()[h.event["student_id"]].class_id
        for h in happenings
        if h.event["type"] == "benchmark"
        for _ in h.event["results"]
    )
    standing = {
        s.class_id: len(client.get("/v1/contradictions", params={**head, "class_id": s.class_id}).json())
        for s in district.roster.sections
    }
    assert sum(standing.values()) > 0
    for cid, n in standing.items():
        assert n <= 0.05 * results[cid], (cid, n, results[cid])
