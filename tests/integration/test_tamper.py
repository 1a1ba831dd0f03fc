"""Tamper evidence (issue 11): every write path chains its events, `mastery
verify` catches a stored row altered, deleted or moved directly in the
database (sqlite3 on events.sqlite, psycopg on PostgreSQL), and the history
and the replay refuse a stream that fails. Stores written before the chain
are sealed once, when first opened by this version; a value removed later is
a break, not a row to seal again."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from domain.ids import learner_stream, objective_stream, profile_stream
from domain.learner import learning_event
from infra import recorders_postgres_log, recorders_sqlite
from infra.eventstore import IndexRow
from infra.settings import Settings
from services import cli, verify
from services.app import create_app
from tests.conftest import AUTH
from tests.helpers import attempt, ledger_of, post, seed_roster

STUDENTS = ("s1", "s2", "s3")


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of a few rows, so that streams span pages as they do in a large log."""
    monkeypatch.setattr(verify, "PAGE", 5)
    monkeypatch.setattr(recorders_sqlite, "SEAL_PAGE", 3)
    monkeypatch.setattr(recorders_postgres_log, "SEAL_PAGE", 3)


class RawLog:
    """The event log's rows, read and changed below the application, as
    someone holding the file or the database could."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.postgres = settings.database_url is not None
        self.table = "masteryledger_events" if self.postgres else "stored_events"

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        if self.settings.database_url is not None:
            with psycopg.connect(self.settings.database_url) as conn, conn.cursor() as cur:
                yield cur
            return
        lite = sqlite3.connect(self.settings.events_path)
        try:
            with lite:  # commits
                yield lite.cursor()
        finally:
            lite.close()

    def _run(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        if not self.postgres:
            sql = sql.replace("%s", "?")
        with self._cursor() as cur:
            cur.execute(
                sql.format(t=self.table),
                [p.hex if isinstance(p, UUID) and not self.postgres else p for p in params],
            )
            return list(cur.fetchall()) if cur.description else []

    def state(self, stream: UUID, version: int) -> bytes:
        return bytes(
            self._run(
                "SELECT state FROM {t} WHERE originator_id = %s AND originator_version = %s", stream, version
            )[0][0]
        )

    def set_state(self, stream: UUID, version: int, state: bytes) -> None:
        self._run(
            "UPDATE {t} SET state = %s WHERE originator_id = %s AND originator_version = %s",
            state,
            stream,
            version,
        )

    def delete(self, stream: UUID, version: int) -> None:
        self._run("DELETE FROM {t} WHERE originator_id = %s AND originator_version = %s", stream, version)

    def head(self, stream: UUID) -> int:
        return int(
            self._run("SELECT MAX(originator_version) FROM {t} WHERE originator_id = %s", stream)[0][0]
        )

    def count(self) -> int:
        return int(self._run("SELECT COUNT(*) FROM {t}")[0][0])

    def chains(self) -> list[bytes | None]:
        return [None if c is None else bytes(c) for (c,) in self._run("SELECT chain FROM {t}")]

    def remove_chain(self, stream: UUID, version: int) -> None:
        self._run(
            "UPDATE {t} SET chain = NULL WHERE originator_id = %s AND originator_version = %s",
            stream,
            version,
        )

    def drop_chain_column(self) -> None:
        """Make the store one written before the chain existed."""
        self._run("ALTER TABLE {t} DROP COLUMN chain")


def _mastery(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, *args: str, command: str = "verify"
) -> Result:
    monkeypatch.setenv("MASTERY_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("MASTERY_DATABASE_URL", settings.database_url)
    return CliRunner().invoke(cli.app, [command, *args])


def _broken(done: Result, stream: UUID, version: int, event_id: str | None, kind: str) -> str:
    """The line a failed verify or replay printed, checked for what it names."""
    assert done.exit_code == 1, done.output
    line: str = done.stderr.strip().splitlines()[-1]
    assert f"stream {stream}" in line, line
    assert f" version {version}" in line and f" version {version + 1}" not in line.split(": ")[1], line
    assert (f"(event_id {event_id})" in line) if event_id else ("event_id" not in line), line
    assert f": {kind}: " in line, line
    return line


def _school(client: TestClient) -> dict[str, dict[int, str]]:
    """Three students with four attempts each, posted as single events and as
    one batch: their event ids by the version they hold in the learning stream."""
    seed_roster(client, students=STUDENTS)
    ids: dict[str, list[str]] = {s: [] for s in STUDENTS}
    for s in STUDENTS:
        e = attempt(s, correct=9)
        post(client, e)
        ids[s].append(e["event_id"])
    batch = [attempt(s, correct=9, at=f"2026-09-{15 + i}T09:30:00Z") for i in range(3) for s in STUDENTS]
    post(client, *batch)
    for e in batch:
        ids[e["student_id"]].append(e["event_id"])
    heads = ledger_of(client).store.indexed.select_heads([learner_stream(s) for s in STUDENTS])
    return {
        s: {heads[learner_stream(s)] - len(ids[s]) + 1 + i: event_id for i, event_id in enumerate(ids[s])}
        for s in STUDENTS
    }


def test_a_clean_store_verifies_whole_and_by_student(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _school(client)
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

    done = _mastery(settings, monkeypatch)
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith(f"verified: {raw.count():,} events in "), done.stdout
    assert "learning events of 3 students against the event index" in done.stdout

    done = _mastery(settings, monkeypatch, "--student", "s1")
    assert done.exit_code == 0, done.output
    events = raw.head(learner_stream("s1")) + raw.head(profile_stream("s1"))
    assert done.stdout.startswith(f"verified: {events:,} events in 2 streams of student s1"), done.stdout
    assert decoded == []


def test_a_flipped_payload_byte_is_named(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _school(client)
    raw, stream = RawLog(settings), learner_stream("s2")
    state = raw.state(stream, 3)
    assert b'"correct":9' in state
    raw.set_state(stream, 3, state.replace(b'"correct":9', b'"correct":8'))  # one bit of one byte
    line = _broken(_mastery(settings, monkeypatch), stream, 3, ids["s2"][3], "altered")
    assert "(student s2)" in line


def test_a_deleted_row_in_the_middle_is_named_with_its_event_id_from_the_index(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _school(client)
    raw, stream = RawLog(settings), learner_stream("s1")
    raw.delete(stream, 3)
    _broken(_mastery(settings, monkeypatch), stream, 3, ids["s1"][3], "missing")


def test_a_deleted_last_row_is_caught_by_the_event_index(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _school(client)
    raw, stream = RawLog(settings), learner_stream("s3")
    last = raw.head(stream)
    raw.delete(stream, last)  # the rest is a valid chain: only the index knows
    line = _broken(_mastery(settings, monkeypatch), stream, last, ids["s3"][last], "missing")
    assert f"ends at version {last - 1}" in line
    _broken(_mastery(settings, monkeypatch, "--student", "s3"), stream, last, ids["s3"][last], "missing")
    assert _mastery(settings, monkeypatch, "--student", "s1").exit_code == 0  # only that student is checked


def test_swapped_versions_are_named_as_reordered(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _school(client)
    raw, stream = RawLog(settings), learner_stream("s1")
    third, fourth = raw.state(stream, 3), raw.state(stream, 4)
    raw.set_state(stream, 3, fourth)
    raw.set_state(stream, 4, third)
    # Version 3 now holds the event written as version 4 (its id is the one found there).
    line = _broken(_mastery(settings, monkeypatch), stream, 3, ids["s1"][4], "reordered")
    assert "written as version 4" in line and "is at version 4" in line


def test_a_catalog_event_altered_is_named_too(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _school(client)
    raw, stream = RawLog(settings), objective_stream("o1")
    state = raw.state(stream, 1)
    raw.set_state(stream, 1, state.replace(b'"min_correct":9', b'"min_correct":1'))
    _broken(_mastery(settings, monkeypatch), stream, 1, None, "altered")
    assert _mastery(settings, monkeypatch, "--student", "s1").exit_code == 0


def test_history_replay_and_explain_refuse_a_broken_stream(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _school(client)
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

    done = _mastery(settings, monkeypatch, "s1", command="replay")
    line = _broken(done, stream, 2, ids["s1"][2], "altered")
    assert line.startswith("mastery: the history of 's1' does not verify: ")
    assert done.stdout == ""  # nothing of the altered history is shown
    assert _mastery(settings, monkeypatch, "s2", command="replay").exit_code == 0
    exported = _mastery(settings, monkeypatch, "--kind", "mastery", command="export")
    _broken(exported, stream, 2, ids["s1"][2], "altered")


def test_an_unknown_student_is_refused_with_one_line(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _school(client)
    done = _mastery(settings, monkeypatch, "--student", "nobody")
    assert done.exit_code == 2, done.output
    assert done.stdout == ""
    assert done.stderr.splitlines()[-1] == (
        "mastery: no student 'nobody': neither the event log nor the event index holds anything of it"
    )


def _reopened(settings: Settings, work: Callable[[TestClient], Any]) -> Any:
    with TestClient(create_app(settings)) as c:
        c.headers.update(AUTH)
        return work(c)


def test_a_store_written_before_the_chain_is_sealed_when_opened(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _reopened(settings, _school)
    raw = RawLog(settings)
    raw.drop_chain_column()
    before = raw.count()
    # Opened by this version (here by `verify` itself): the column comes back, every row sealed.
    done = _mastery(settings, monkeypatch)
    assert done.exit_code == 0, done.output
    assert len(raw.chains()) == before and None not in raw.chains()
    _reopened(settings, lambda c: post(c, attempt("s1"), attempt("s2")))  # chained on from the sealed heads
    assert _mastery(settings, monkeypatch).exit_code == 0


def test_a_chain_value_removed_later_is_a_break_and_not_sealed_again(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _reopened(settings, _school)
    raw, stream = RawLog(settings), learner_stream("s2")
    raw.set_state(stream, 4, raw.state(stream, 4).replace(b'"correct":9', b'"correct":2'))
    raw.remove_chain(stream, 4)  # and hope the next start seals it as a legacy row
    _reopened(settings, lambda c: None)
    _broken(_mastery(settings, monkeypatch), stream, 4, ids["s2"][4], "altered")
    assert None in raw.chains()


def test_writes_without_a_chain_key_store_nothing(client: TestClient) -> None:
    from eventsourcing.persistence import StoredEvent

    from infra.recorders import ChainKeyMissing

    seed_roster(client)
    recorder = ledger_of(client).store.indexed
    head = ledger_of(client).store.head_position()
    key, recorder.chain_key = recorder.chain_key, None
    try:
        with pytest.raises(ChainKeyMissing):
            recorder.insert_events([StoredEvent(learner_stream("s9"), 1, "tests:Nothing", b"{}")])
    finally:
        recorder.chain_key = key
    assert ledger_of(client).store.head_position() == head


@pytest.mark.stores_only("patches the writing process's recorder in place (not ingest's, there)")
def test_a_batch_whose_heads_move_before_the_lock_is_chained_from_the_new_heads(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch is hashed before it takes the log's lock, from the heads as they
    were; another writer appending to its student in between moves them, and
    the batch is hashed again from the heads read under the lock."""
    _school(client)
    store = ledger_of(client).store
    recorder = store.indexed
    chained = recorder.chained
    calls: list[int] = []

    def racing(events: Any, heads: Any) -> Any:
        calls.append(len(events))
        if len(calls) == 1:  # the posted batch has hashed: another writer's event for s1 goes in first
            other = learning_event(
                "goal",
                student_id="s1",
                version=1,  # numbered from the head under the lock
                recorded_at=datetime.now(UTC),
                event_id="racing-goal",
                occurred_at=datetime.now(UTC),
                recorded_by="tests",
                request_id="race",
                payload={"target_mastered": 3, "due": "2026-12-01"},
                personal=None,
            )
            row = IndexRow("racing-goal", "s1", "goal", None, "hash")
            recorder.append_batch([store.mapper.to_stored_event(other)], [row])
        return chained(events, heads)

    monkeypatch.setattr(recorder, "chained", racing)
    raw = RawLog(settings)
    before = raw.head(learner_stream("s1"))
    post(client, attempt("s1"), attempt("s2"))
    # The posted batch before the lock, the racing one (its heads did not move), the posted one again.
    assert calls == [2, 1, 2]
    assert raw.head(learner_stream("s1")) == before + 2  # the racing goal, then the posted attempt
    assert _mastery(settings, monkeypatch).exit_code == 0


def test_an_erasure_leaves_the_chain_whole(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Erasure destroys the student's key and records itself as an event: the
    events themselves are untouched, so every chain still verifies."""
    _school(client)
    erased = _mastery(settings, monkeypatch, "s2", "--reason", "request DPO-1", command="erase")
    assert erased.exit_code == 0, erased.output
    done = _mastery(settings, monkeypatch)
    assert done.exit_code == 0, done.output
    assert _mastery(settings, monkeypatch, "--student", "s2").exit_code == 0
    assert _mastery(settings, monkeypatch, "s2", command="replay").exit_code == 0
