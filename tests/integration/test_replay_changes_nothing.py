"""A replayed source changes nothing (issue 12): every read-model row
remembers the stream version it reflects, so the log applied again from
its start, over read models that already hold it, leaves every row as it
was. On both stores, through the live log tailer."""

from __future__ import annotations

import random

from fastapi.testclient import TestClient

from infra.tracking import set_position
from tests.helpers import attempt, ledger_of, post, post_random_history, projected, read_model_rows


def test_the_log_applied_again_from_its_start_changes_no_row(client: TestClient) -> None:
    ledger = ledger_of(client)
    post_random_history(client, random.Random(3))
    r = client.put(
        "/v1/classes/c1", json={"name": "7D", "school_id": "sch1", "teacher_ids": [], "student_ids": []}
    )
    assert r.status_code in (200, 201), r.text
    position = post(client, attempt("s1", "o1", correct=3))["position"]
    assert projected(ledger, position)
    before = read_model_rows(ledger)
    assert before["rm_enrolments"] == [], "the class was emptied after it was formed with students"

    with ledger.engine.begin() as conn:
        for name in ledger.projection_names:
            set_position(conn, name, 0)  # as if every event were delivered again
    # The tailer's thread sleeps until the log's head moves: apply from here.
    assert ledger.runner.catch_up() >= position
    assert read_model_rows(ledger) == before
