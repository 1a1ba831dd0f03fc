"""Contradictions between benchmarks and recorded mastery (issue #5): opened,
resolved and kept as history; scoped by role and checked input. Both stores
and the distributed deployment."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from services.projections.rebuild import rebuild
from tests.helpers import (
    RULE_9_OF_10,
    attempt,
    bearer,
    ledger_of,
    post,
    projected,
    seed_roster,
)
from tests.integration.read_models_support import (
    CONTRACT_FIELDS,
    FIT,
    benchmark,
    contradictions_at,
    event_of,
    get_at,
    mastery_tables,
    row_of,
)


def test_contradictions_open_resolve_and_keep_history(client: TestClient) -> None:
    seed_roster(client, students=("s1", "s2"), objectives={"o1": RULE_9_OF_10, "o2": RULE_9_OF_10})
    quiz = attempt("s1", "o1", correct=10, at="2026-09-01T09:00:00Z")
    bench = benchmark("s1", "2026-09-10T09:00:00Z", [("o1", 4, 10), ("o2", 19, 20)])
    pos = post(client, quiz, bench)["position"]

    open_ = contradictions_at(client, pos, class_id="c1")
    assert [set(x) for x in open_] == [CONTRACT_FIELDS, CONTRACT_FIELDS]
    by_oid = {x["objective_id"]: x for x in open_}
    assert by_oid["o1"]["kind"] == "benchmark_below_mastery"
    assert by_oid["o1"]["mastery_status"] == "mastered"
    assert by_oid["o1"]["benchmark_id"] == "interim-1" and by_oid["o1"]["benchmark_percent"] == 40
    assert by_oid["o2"]["kind"] == "benchmark_above_status"
    assert by_oid["o2"]["mastery_status"] == "not_started" and by_oid["o2"]["benchmark_percent"] == 95
    assert datetime.fromisoformat(by_oid["o1"]["detected_at"]) == datetime(2026, 9, 10, 9, tzinfo=UTC)
    assert contradictions_at(client, pos, school_id="sch1") == open_

    m = get_at(client, "/v1/students/s1/mastery", pos)
    assert row_of(m, "o1")["flags"] == ["benchmark_disagrees"]
    assert row_of(m, "o2")["status"] == "not_started" and row_of(m, "o2")["flags"] == ["benchmark_disagrees"]

    # The same benchmark delivered again changes nothing.
    before = mastery_tables(ledger_of(client))
    again = post(client, bench)
    assert again["duplicates"] == 1
    assert contradictions_at(client, again["position"], class_id="c1") == open_
    assert mastery_tables(ledger_of(client)) == before

    # A late quiz that occurred before the benchmark: o2 is now in progress, the
    # contradiction still stands from the same moment.
    late = post(client, attempt("s1", "o2", correct=3, at="2026-09-05T09:00:00Z"))["position"]
    o2 = next(x for x in contradictions_at(client, late, class_id="c1") if x["objective_id"] == "o2")
    assert o2["mastery_status"] == "in_progress" and o2["detected_at"] == by_oid["o2"]["detected_at"]

    # New evidence after the benchmark settles o1: the student re-demonstrated it.
    settled = post(client, attempt("s1", "o1", correct=10, at="2026-09-12T09:00:00Z"))["position"]
    assert [x["objective_id"] for x in contradictions_at(client, settled, class_id="c1")] == ["o2"]
    assert row_of(get_at(client, "/v1/students/s1/mastery", settled), "o1")["flags"] == []
    history = contradictions_at(client, settled, class_id="c1", include_resolved="true")
    o1 = next(x for x in history if x["objective_id"] == "o1")
    assert set(o1) == CONTRACT_FIELDS | {"resolved_at"}
    assert datetime.fromisoformat(o1["resolved_at"]) == datetime(2026, 9, 12, 9, tzinfo=UTC)

    # The replay path (as_of, explain) flags the same, for the moment asked.
    then = get_at(client, "/v1/students/s1/mastery", settled, as_of="2026-09-11T00:00:00Z")
    assert row_of(then, "o1")["flags"] == ["benchmark_disagrees"]
    now = get_at(client, "/v1/students/s1/mastery", settled)
    replayed = get_at(client, "/v1/students/s1/mastery", settled, as_of="2026-10-01T00:00:00Z")
    assert [o["flags"] for o in replayed["objectives"]] == [o["flags"] for o in now["objectives"]]
    explain = get_at(client, "/v1/students/s1/objectives/o2/explain", settled)
    assert explain["flags"] == ["benchmark_disagrees"]

    # Voiding the benchmark resolves what it raised, at the void.
    void = event_of(
        "void", "s1", "2026-09-20T09:00:00Z", target_event_id=bench["event_id"], reason="wrong student"
    )
    voided = post(client, void)["position"]
    assert contradictions_at(client, voided, class_id="c1") == []
    history = contradictions_at(client, voided, school_id="sch1", include_resolved="true")
    o2_closed = next(x for x in history if x["objective_id"] == "o2")
    assert datetime.fromisoformat(o2_closed["resolved_at"]) == datetime(2026, 9, 20, 9, tzinfo=UTC)
    assert all(
        f == [] for f in (o["flags"] for o in get_at(client, "/v1/students/s1/mastery", voided)["objectives"])
    )

    # An override after a benchmark settles it: the teacher decided knowing the result.
    post(client, attempt("s2", "o1", correct=10, at="2026-09-01T09:00:00Z"))
    p2 = post(client, benchmark("s2", "2026-09-10T09:00:00Z", [("o1", 2, 10)]))["position"]
    assert [x["student_id"] for x in contradictions_at(client, p2, class_id="c1")] == ["s2"]
    ov = event_of(
        "override", "s2", "2026-09-11T09:00:00Z", objective_id="o1", status="mastered", reason="conference"
    )
    p3 = post(client, ov)["position"]
    assert contradictions_at(client, p3, class_id="c1") == []

    # Idempotent: the whole log applied again to the live tables changes nothing;
    # a rebuild gives the same tables row for row.
    ledger = ledger_of(client)
    assert projected(ledger, p3)
    before = mastery_tables(ledger)
    mastery = next(p for p in ledger.runner.projections if p.name == "mastery")
    notes = ledger.store.recorder.select_notifications(1, 10_000)
    decoded = [(n.id, ledger.store.mapper.to_domain_event(n)) for n in notes if n.topic in mastery.topics]
    with ledger.engine.begin() as conn:
        mastery.apply(conn, decoded[: len(decoded) // 2])
        mastery.apply(conn, decoded)
    assert mastery_tables(ledger) == before
    rebuild(ledger)
    assert mastery_tables(ledger) == before
    assert any(before["rm_contradictions"]) and any(before["rm_benchmark_results"])


def test_contradictions_scope_and_input(client: TestClient) -> None:
    seed_roster(client, students=("s1",))
    post(client, attempt("s1", "o1", correct=10, at="2026-09-01T09:00:00Z"))
    pos = post(client, benchmark("s1", "2026-09-10T09:00:00Z", [("o1", 1, 10)]))["position"]
    mine, other = bearer(client, "teacher", "class:c1"), bearer(client, "teacher", "class:c9")
    r = client.get("/v1/contradictions", params={"class_id": "c1", "min_position": pos}, headers=mine)
    assert r.status_code == 200 and len(r.json()) == 1
    assert client.get("/v1/contradictions", params={"class_id": "c1"}, headers=other).status_code == 404
    # A teacher asking for a school sees only the students it teaches there.
    r = client.get("/v1/contradictions", params={"school_id": "sch1", "min_position": pos}, headers=mine)
    assert r.status_code == 200 and len(r.json()) == 1
    assert client.get("/v1/contradictions", params={"class_id": "nope"}).status_code == 404
    assert client.get("/v1/contradictions", params={"school_id": "nope"}).status_code == 404
    assert client.get("/v1/contradictions").status_code == 422
    assert client.get("/v1/contradictions", params={"class_id": "c1", "school_id": "sch1"}).status_code == 422
    for role in ("analyst", "student", "ingest"):
        r = client.get(
            "/v1/contradictions", params={"class_id": "c1"}, headers=bearer(client, role, *FIT[role])
        )
        assert r.status_code == 403, role
