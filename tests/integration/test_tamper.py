"""Tamper evidence (issue 11): every write path chains its events, `mastery
verify` catches a stored row altered, deleted or moved directly in the
database (sqlite3 on events.sqlite, psycopg on PostgreSQL), and the history
and the replay refuse a stream that fails."""

from __future__ import annotations

from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from domain.ids import learner_stream, objective_stream, profile_stream
from infra.settings import Settings
from services import verify
from tests.helpers import attempt, post
from tests.integration.tamper_support import RawLog, broken, run_cli, school, use_small_pages


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    use_small_pages(monkeypatch)


def test_a_clean_store_verifies_whole_and_by_student(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    school(client)
    # A batch large enough for several COPY pages and students, and roster events after events.
    big = [
        attempt(s, correct=i % 10, at=f"2026-10-{1 + i % 28:02d}T09:30:00Z")
        for i in range(1_500)
        for s in ("s1", "s2")
    ]
    post(client, *big[:1_000])
    post(client, *big[1_000:])
    assert (
        client.put("/v1/students/s3", json={"name": "Renamed", "grade": "8", "school_id": "sch1"}).status_code
        == 200
    )
    raw = RawLog(settings)
    assert None not in raw.chains()
    # A clean store is checked by counts: no stream is decoded against the index.
    decoded: list[UUID] = []
    check_index = verify.Verifier._check_index

    def counted(verifier: verify.Verifier, stream: UUID, student_id: str) -> None:
        decoded.append(stream)
        check_index(verifier, stream, student_id)

    monkeypatch.setattr(verify.Verifier, "_check_index", counted)

    done = run_cli(settings, monkeypatch)
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith(f"verified: {raw.count():,} events in "), done.stdout
    assert "learning events of 3 students against the event index" in done.stdout

    done = run_cli(settings, monkeypatch, "--student", "s1")
    assert done.exit_code == 0, done.output
    events = raw.head(learner_stream("s1")) + raw.head(profile_stream("s1"))
    assert done.stdout.startswith(f"verified: {events:,} events in 2 streams of student s1"), done.stdout
    assert decoded == []


def test_a_flipped_payload_byte_is_named(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = school(client)
    raw, stream = RawLog(settings), learner_stream("s2")
    state = raw.state(stream, 3)
    assert b'"correct":9' in state
    raw.set_state(stream, 3, state.replace(b'"correct":9', b'"correct":8'))  # one bit of one byte
    line = broken(run_cli(settings, monkeypatch), stream, 3, ids["s2"][3], "altered")
    assert "(student s2)" in line


def test_a_deleted_row_in_the_middle_is_named_with_its_event_id_from_the_index(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = school(client)
    raw, stream = RawLog(settings), learner_stream("s1")
    raw.delete(stream, 3)
    broken(run_cli(settings, monkeypatch), stream, 3, ids["s1"][3], "missing")


def test_a_deleted_last_row_is_caught_by_the_event_index(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = school(client)
    raw, stream = RawLog(settings), learner_stream("s3")
    last = raw.head(stream)
    raw.delete(stream, last)  # the rest is a valid chain: only the index knows
    line = broken(run_cli(settings, monkeypatch), stream, last, ids["s3"][last], "missing")
    assert f"ends at version {last - 1}" in line
    broken(run_cli(settings, monkeypatch, "--student", "s3"), stream, last, ids["s3"][last], "missing")
    assert run_cli(settings, monkeypatch, "--student", "s1").exit_code == 0  # only that student is checked


def test_swapped_versions_are_named_as_reordered(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = school(client)
    raw, stream = RawLog(settings), learner_stream("s1")
    third, fourth = raw.state(stream, 3), raw.state(stream, 4)
    raw.set_state(stream, 3, fourth)
    raw.set_state(stream, 4, third)
    # Version 3 now holds the event written as version 4 (its id is the one found there).
    line = broken(run_cli(settings, monkeypatch), stream, 3, ids["s1"][4], "reordered")
    assert "written as version 4" in line and "is at version 4" in line


def test_a_catalog_event_altered_is_named_too(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    school(client)
    raw, stream = RawLog(settings), objective_stream("o1")
    state = raw.state(stream, 1)
    raw.set_state(stream, 1, state.replace(b'"min_correct":9', b'"min_correct":1'))
    broken(run_cli(settings, monkeypatch), stream, 1, None, "altered")
    assert run_cli(settings, monkeypatch, "--student", "s1").exit_code == 0


def test_history_replay_and_explain_refuse_a_broken_stream(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = school(client)
    position = post(client, attempt("s2"))["position"]
    raw, stream = RawLog(settings), learner_stream("s1")
    raw.set_state(stream, 2, raw.state(stream, 2).replace(b'"correct":9', b'"correct":1'))
    wait = {"min_position": position}

    r = client.get("/v1/students/s1/history", params=wait)
    assert r.status_code == 409, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert (body["stream_id"], body["version"], body["event_id"], body["kind"]) == (
        str(stream),
        2,
        ids["s1"][2],
        "altered",
    )
    assert "does not verify" in body["detail"]
    for path, params in (
        ("/v1/students/s1/objectives/o1/explain", {}),
        ("/v1/students/s1/mastery", {"as_of": "2026-12-01T00:00:00Z"}),
    ):
        assert client.get(path, params={**wait, **params}).status_code == 409, path
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("history", "mastery", "objectives/{objective_id}/explain"):
        answer = paths[f"/v1/students/{{student_id}}/{path}"]["get"]["responses"]["409"]
        assert "fails verification" in answer["description"], path
    assert client.get("/v1/students/s2/history", params=wait).status_code == 200
    assert client.get("/v1/students/s1/mastery", params=wait).status_code == 200  # the read models

    done = run_cli(settings, monkeypatch, "s1", command="replay")
    line = broken(done, stream, 2, ids["s1"][2], "altered")
    assert line.startswith("mastery: the history of 's1' does not verify: ")
    assert done.stdout == ""  # nothing of the altered history is shown
    assert run_cli(settings, monkeypatch, "s2", command="replay").exit_code == 0
    exported = run_cli(settings, monkeypatch, "--kind", "mastery", command="export")
    broken(exported, stream, 2, ids["s1"][2], "altered")


def test_an_unknown_student_is_refused_with_one_line(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    school(client)
    done = run_cli(settings, monkeypatch, "--student", "nobody")
    assert done.exit_code == 2, done.output
    assert done.stdout == ""
    assert done.stderr.splitlines()[-1] == (
        "mastery: no student 'nobody': neither the event log nor the event index holds anything of it"
    )
