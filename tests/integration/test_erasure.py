"""Erasure by crypto-shredding (issue 11; CONTRACT.md §4): `mastery erase`
destroys the student's key. Statuses, flags and aggregates do not change; the
name and every free text are unreadable everywhere they went (history,
explain, class map, exports) and show `[erased]`; neither they nor the key
are left in any file of the embedded data dir, nor in a `pg_dump`."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from infra.trust import student_keys
from services import cli
from services.bootstrap import Ledger
from tests.helpers import attempt, ledger_of, mastery, new_id, post, seed_roster, use_store

NAME = "Quillon Erasable-Zoë"
# Free text of every personal field, each findable in raw bytes.
NOTES = "notes-7f3a: worked with Quillon's cousin"
TEXT = "reflection-9b1c: I mixed up the signs again"
CAUSE = "cause-2d4e: careless with negatives"
REASON = "override-5e6f: showed it at the parent conference"
VOID = "void-8a0b: scored the wrong paper"
SECRETS = (NAME, NOTES, TEXT, CAUSE, REASON, VOID)


def _seed(client: TestClient) -> int:
    seed_roster(client, students=("s1", "s2"))
    r = client.put("/v1/students/s1", json={"name": NAME, "grade": "7", "school_id": "sch1"})
    assert r.status_code == 200, r.text
    first = attempt("s1", correct=6, notes=NOTES)
    retake = {**attempt("s1", correct=9, at="2026-09-16T09:30:00Z", form="B"), "type": "retake"}
    retake["retake_of"] = first["event_id"]
    reflection = {
        "event_id": new_id(),
        "type": "reflection",
        "student_id": "s1",
        "occurred_at": "2026-09-15T09:00:00Z",
        "on_event": first["event_id"],
        "text": TEXT,
        "error_analysis": [{"item": 3, "cause": CAUSE}],
    }
    stray = attempt("s1", correct=1, at="2026-09-17T09:30:00Z")
    void = {
        "event_id": new_id(),
        "type": "void",
        "student_id": "s1",
        "occurred_at": "2026-09-18T09:00:00Z",
        "target_event_id": stray["event_id"],
        "reason": VOID,
    }
    override = {
        "event_id": new_id(),
        "type": "override",
        "student_id": "s1",
        "occurred_at": "2026-09-19T09:00:00Z",
        "objective_id": "o1",
        "status": "mastered",
        "reason": REASON,
    }
    other = attempt("s2", correct=9, notes="s2 keeps these notes")
    return int(post(client, first, reflection, retake, stray, void, override, other)["position"])


def _reads(client: TestClient, position: int) -> dict[str, Any]:
    return {
        "mastery": mastery(client, "s1", position)["objectives"],
        "map": client.get("/v1/classes/c1/mastery-map").json()["students"],
        "summary": client.get("/v1/schools/sch1/summary").json(),
    }


def _erase(monkeypatch: pytest.MonkeyPatch, ledger: Ledger, student: str) -> tuple[int, str]:
    use_store(monkeypatch, ledger)
    args = ["erase", student, "--reason", "request DPO-2026-114", "--by", "dpo"]
    result = CliRunner().invoke(cli.app, args)
    return result.exit_code, result.stdout + result.stderr


def _key_of(ledger: Ledger, student: str) -> bytes | None:
    with ledger.trust.connect() as conn:
        key = conn.execute(select(student_keys.c.key).where(student_keys.c.student_id == student)).scalar()
    return bytes(key) if key is not None else None


def test_erasure_keeps_every_status_and_removes_every_personal_byte(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = ledger_of(client)
    position = _seed(client)
    before = _reads(client, position)
    history = client.get("/v1/students/s1/history").json()["events"]
    assert {e["type"]: e["payload"] for e in history}["reflection"]["text"] == TEXT  # readable before
    key = _key_of(ledger, "s1")
    assert key is not None and len(key) == 32
    # Sealed at rest from the start: no file holds the text, the trust store holds the key.
    held = b"".join(_raw_bytes(ledger))
    assert not any(secret.encode() in held for secret in SECRETS)
    assert key in held or key.hex().encode() in held

    code, output = _erase(monkeypatch, ledger, "s1")
    assert code == 0, output
    assert "student s1 erased" in output
    assert _key_of(ledger, "s1") is None and _key_of(ledger, "s2") is not None

    # Statuses, flags and aggregates: unchanged (the erasure is in the profile stream).
    after_position = ledger.store.head_position()
    assert _reads(client, after_position) == {
        **before,
        "map": [{**s, "name": "[erased]"} if s["student_id"] == "s1" else s for s in before["map"]],
    }
    # The history: every event still there, [erased] where personal data stood.
    erased = client.get("/v1/students/s1/history").json()["events"]
    assert [e["event_id"] for e in erased] == [e["event_id"] for e in history]
    payloads = {e["type"]: e["payload"] for e in erased}
    assert payloads["reflection"]["text"] == "[erased]"
    assert payloads["reflection"]["error_analysis"] == "[erased]"
    assert payloads["override"]["reason"] == "[erased]" and payloads["void"]["reason"] == "[erased]"
    explain = client.get("/v1/students/s1/objectives/o1/explain").json()
    assert explain["overrides"][0]["reason"] == "[erased]"
    # Exports: the admin's shows [erased]; the other student keeps theirs.
    export = client.get("/v1/export", params={"kind": "events"}).text
    assert "s2 keeps these notes" in export
    assert "[erased]" in export and not any(s in export for s in SECRETS)
    # Again: nothing left to destroy, said so.
    code, output = _erase(monkeypatch, ledger, "s1")
    assert code == 0 and "already erased" in output
    # The erased student takes no new records.
    r = client.post("/v1/events", json={"events": [attempt("s1")]})
    assert r.status_code == 422 and "was erased" in r.text
    r = client.put("/v1/students/s1", json={"name": NAME, "grade": "7", "school_id": "sch1"})
    assert r.status_code == 409 and "was erased" in r.text

    for blob in _raw_bytes(ledger):
        for secret in SECRETS:
            assert secret.encode() not in blob, secret
        assert key not in blob and key.hex().encode() not in blob


def test_erasing_an_unknown_student_says_so(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_roster(client)
    code, output = _erase(monkeypatch, ledger_of(client), "nobody")
    assert code == 2 and "no student 'nobody'" in output


def _raw_bytes(ledger: Ledger) -> list[bytes]:
    """Every byte the store keeps: each file of the embedded data dir, or a
    pg_dump of the whole database (event log, read models, trust schema)."""
    settings = ledger.settings
    if settings.database_url is None:
        ledger.trust.dispose()  # nothing held open: what is on disk is all there is
        return [p.read_bytes() for p in sorted(settings.data_dir.rglob("*")) if p.is_file()]
    pg_dump = shutil.which("pg_dump")
    assert pg_dump, "pg_dump is needed to check an erasure on PostgreSQL (apt-get install postgresql-client)"
    dump = subprocess.run([pg_dump, "--no-owner", settings.database_url], capture_output=True, check=True)
    assert b"masteryledger_events" in dump.stdout and b"student_keys" in dump.stdout
    return [dump.stdout]
