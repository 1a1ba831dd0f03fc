"""Concurrent PUTs of one student, class or objective all succeed (issue 10:
they gave up with an IntegrityError after three collisions, a 500), and the
record ends as one of the bodies sent."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from eventsourcing.domain import Aggregate
from fastapi.testclient import TestClient

from domain.ids import class_stream, objective_stream, profile_stream
from domain.profile import StudentProfile
from infra.keys import Opener
from infra.settings import Settings
from services.bootstrap import Ledger, build_ledger
from services.ingest.schemas import StudentIn, WriteOut
from tests.helpers import RULE_9_OF_10

WRITERS = 16


def _seed(c: TestClient) -> None:
    assert c.put("/v1/schools/sch1", json={"name": "Lincoln"}).status_code in (200, 201)
    assert c.put("/v1/schools/sch2", json={"name": "Jefferson"}).status_code in (200, 201)
    for s in ("s1", "s2", "s3"):
        body = {"name": s, "grade": "7", "school_id": "sch1"}
        assert c.put(f"/v1/students/{s}", json=body).status_code in (200, 201)


def _student(i: int) -> dict[str, Any]:
    return {"name": f"Name {i}", "grade": str(6 + i % 3), "school_id": f"sch{1 + i % 2}"}


def _class(i: int) -> dict[str, Any]:
    students = [["s1"], ["s1", "s2"], ["s2", "s3"], []][i % 4]
    return {"name": f"7B-{i}", "school_id": "sch1", "teacher_ids": [f"t{i}"], "student_ids": students}


def _objective(i: int) -> dict[str, Any]:
    return {
        "statement": f"Statement {i}",
        "subject": "math",
        "course": "algebra-1",
        "unit": f"u{i}",
        "sequence": i,
        "rule": RULE_9_OF_10,
        "effective_from": "2026-08-01T00:00:00Z",
    }


def _student_state(a: Aggregate, ledger: Ledger) -> dict[str, Any]:
    assert isinstance(a, StudentProfile)
    name = Opener(ledger.keys.for_reading([a.student_id]).get(a.student_id)).name(a.sealed_name)
    return {"name": name, "grade": a.grade, "school_id": a.school_id}


def _class_state(a: Aggregate, _: Ledger) -> dict[str, Any]:
    return {
        "name": a.name,  # type: ignore[attr-defined]
        "school_id": a.school_id,  # type: ignore[attr-defined]
        "teacher_ids": a.teacher_ids,  # type: ignore[attr-defined]
        "student_ids": sorted(a.student_ids),  # type: ignore[attr-defined] # enrolment is a set
    }


def _objective_state(a: Aggregate, _: Ledger) -> dict[str, Any]:
    return {"statement": a.statement, "unit": a.unit, "sequence": a.sequence}  # type: ignore[attr-defined]


CASES = {
    "student": ("/v1/students/x1", profile_stream("x1"), _student, _student_state),
    "class": ("/v1/classes/x1", class_stream("x1"), _class, _class_state),
    "objective": ("/v1/objectives/x1", objective_stream("x1"), _objective, _objective_state),
}


@pytest.mark.parametrize("kind", CASES)
def test_concurrent_puts_of_one_record_all_succeed(client: TestClient, kind: str) -> None:
    path, stream, body, state = CASES[kind]
    _seed(client)
    bodies = [body(i) for i in range(WRITERS)]
    with ThreadPoolExecutor(WRITERS) as pool:
        answers = list(pool.map(lambda b: client.put(path, json=b), bodies))
    assert [r.status_code for r in answers if r.status_code not in (200, 201)] == [], [
        r.text for r in answers if r.status_code not in (200, 201)
    ]
    assert sorted(r.status_code for r in answers) == [200] * (WRITERS - 1) + [201]
    ledger: Ledger = client.app.state.ledger  # type: ignore[attr-defined]
    final = state(ledger.store.repository.get(stream), ledger)
    assert final in [{k: b[k] for k in final} for b in bodies]


def test_puts_from_two_processes_retry_until_they_succeed(settings: Settings, client: TestClient) -> None:
    """Two ledgers on one store are two processes: their PUTs of one student
    collide on the stream's next version, and the loser reads again and retries."""
    _seed(client)
    ledger: Ledger = client.app.state.ledger  # type: ignore[attr-defined]
    other = build_ledger(settings)
    try:

        def put(i: int) -> WriteOut:
            led = (ledger, other)[i % 2]
            return led.roster.put_student("x2", StudentIn.model_validate(_student(i)))

        with ThreadPoolExecutor(2 * WRITERS) as pool:
            outcomes = list(pool.map(put, range(2 * WRITERS)))
        assert len(outcomes) == 2 * WRITERS
        assert sum(o.created for o in outcomes) == 1
        final = _student_state(ledger.store.repository.get(profile_stream("x2")), ledger)
        assert final in [_student(i) for i in range(2 * WRITERS)]
    finally:
        other.close()
