"""The learning-event writer (services/ingest/writer.py) against in-memory
ports (tests/unit/fake_ports.py): what it stores, what it refuses and why,
that a refused batch stores nothing, and how it meets another writer between
its check and its append. tests/integration holds it to the real stores."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.ids import learner_stream
from services.errors import Busy, Conflict, InvalidInput
from services.ingest.commands import RecordEvents
from services.ingest.event_checks import Backfill
from services.ingest.schemas import EventBatchIn, EventIn
from tests.unit.fake_ports import School

NINE_OF_TEN = {"threshold": {"kind": "correct_of", "min_correct": 9, "of": 10}}
RUBRIC = {
    "threshold": {
        "kind": "rubric",
        "levels": ["beginning", "developing", "proficient"],
        "min_level": "proficient",
    }
}
MONDAY = "2026-09-14T09:30:00-05:00"


@pytest.fixture
def school() -> School:
    s = School()
    s.enrol("s1", "s2")
    s.objective("o1", NINE_OF_TEN)
    s.objective("r1", RUBRIC)
    return s


def attempt(student: str = "s1", objective: str = "o1", correct: int = 9, **extra: Any) -> dict[str, Any]:
    body = {
        "event_id": str(uuid.uuid4()),
        "type": "attempt",
        "student_id": student,
        "occurred_at": MONDAY,
        "objective_id": objective,
        "form": "A",
        "evidence": "quiz",
        "score": {"correct": correct, "total": 10},
    }
    return body | extra


def retake_of(first: dict[str, Any], correct: int = 9) -> dict[str, Any]:
    """A retake of `first` on the second form."""
    student, objective = first["student_id"], first["objective_id"]
    return attempt(student, objective, correct, type="retake", retake_of=first["event_id"], form="B")


def events(*bodies: dict[str, Any]) -> list[EventIn]:
    return EventBatchIn.model_validate({"events": list(bodies)}).events


def record(school: School, *bodies: dict[str, Any], backfill: Backfill | None = None) -> Any:
    return school.writer.write(RecordEvents(events(*bodies), "teacher:t1", "req-1", backfill))


def problems(raised: pytest.ExceptionInfo[Any]) -> list[tuple[tuple[Any, ...], str]]:
    return [(tuple(e["loc"]), e["msg"]) for e in raised.value.errors]


def test_a_batch_is_appended_at_each_students_head_with_its_personal_data_sealed(school: School) -> None:
    first = attempt(notes="rushed the last two")
    result = record(school, first, attempt("s2"), retake_of(first, correct=10))
    assert (result.stored, result.duplicates, result.position) == (3, 0, 3)
    assert [status for _, status in result.results] == ["stored"] * 3
    s1 = learner_stream("s1")
    assert [(e[0], e[1], e[2]) for e in school.log.events if e[1] == s1] == [
        ("attempt", s1, 1),
        ("retake", s1, 2),
    ]
    stored = school.log.events[0]
    payload, sealed = stored[6], stored[7]
    assert "notes" not in payload and payload["score"] == {"correct": 9, "total": 10}
    assert sealed is not None and "rushed" not in sealed
    assert school.keys.keys["s1"].open(sealed, first["event_id"]) == {"notes": "rushed the last two"}
    [recording] = school.log.recordings
    assert (recording.recorded_by, recording.request_id, recording.recorded, recording.migrated_by) == (
        "teacher:t1",
        "req-1",
        None,
        None,
    )
    kinds = {row.record_type: row for row in school.log.index.values()}
    assert (kinds["retake"].student_id, kinds["retake"].objective_id) == ("s1", "o1")


def test_the_same_batch_again_stores_nothing_and_answers_duplicates(school: School) -> None:
    batch = [attempt(), attempt("s2")]
    record(school, *batch)
    again = record(school, *reversed(batch))  # the same events in another key order and place
    assert (again.stored, again.duplicates, again.position) == (0, 2, 2)
    assert len(school.log.events) == 2 and len(school.log.recordings) == 1


def test_an_event_id_reused_with_another_body_is_a_conflict_and_nothing_is_stored(school: School) -> None:
    first = attempt()
    record(school, first)
    with pytest.raises(Conflict) as raised:
        record(school, attempt("s2"), first | {"score": {"correct": 3, "total": 10}})
    assert problems(raised) == [
        (
            ("body", "events", 1, "event_id"),
            f"event_id {first['event_id']} was already used with a different body",
        )
    ]
    assert len(school.log.events) == 1


def test_every_problem_of_a_batch_is_named_and_nothing_of_it_is_stored(school: School) -> None:
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    stranger = attempt("s2")
    record(school, stranger)
    batch = [
        attempt(),  # good on its own
        attempt("nobody"),
        attempt(objective="o9"),
        attempt(occurred_at=future),
        attempt(objective="o1", score={"rubric_level": "proficient"}),
        attempt(objective="r1", score={"rubric_level": "expert"}),
        retake_of(stranger) | {"student_id": "s1"},  # another student's attempt: as if it did not exist
    ]
    with pytest.raises(InvalidInput) as raised:
        record(school, *batch)
    assert problems(raised) == [
        (("body", "events", 1, "student_id"), "unknown student 'nobody'"),
        (("body", "events", 2, "objective_id"), "unknown objective 'o9'"),
        (("body", "events", 3, "occurred_at"), "occurred_at is more than 5 minutes in the future"),
        (("body", "events", 4, "score", "rubric_level"), "this objective's rule has no rubric levels"),
        (
            ("body", "events", 5, "score", "rubric_level"),
            "'expert' is not one of the rule's levels: beginning, developing, proficient",
        ),
        (("body", "events", 6, "retake_of"), "retake_of names no earlier event of this student"),
    ]
    assert len(school.log.events) == 1 and len(school.log.recordings) == 1  # only the stranger's


def test_an_erased_student_takes_no_new_events(school: School) -> None:
    school.erase("s2")
    with pytest.raises(InvalidInput) as raised:
        record(school, attempt("s2"))
    assert problems(raised) == [
        (("body", "events", 0, "student_id"), "student 's2' was erased and takes no new events")
    ]
    assert school.log.events == []


def test_another_writer_storing_one_of_the_ids_first_makes_the_batch_a_conflict(school: School) -> None:
    mine = attempt()
    # Between the writer's first check (which assumes its ids are new) and its
    # append, another writer stores the same event id with another body.
    school.log.meanwhile = lambda: school.log.stored("attempt", "s1", "o1", mine["event_id"])
    with pytest.raises(Conflict):
        record(school, attempt("s2"), mine)
    assert [e[4] for e in school.log.events] == [mine["event_id"]]  # the other writer's, and none of mine


def test_another_writer_on_the_same_student_moves_the_versions_on(school: School) -> None:
    other = str(uuid.uuid4())
    school.log.meanwhile = lambda: school.log.stored("attempt", "s1", "o1", other)
    result = record(school, attempt(), attempt())
    assert result.stored == 2
    assert [(e[4] == other, e[2]) for e in school.log.events] == [(True, 1), (False, 2), (False, 3)]


def test_a_busy_log_is_a_busy_answer_and_nothing_is_stored(school: School) -> None:
    school.log.busy = True
    with pytest.raises(Busy, match="nothing was stored"):
        record(school, attempt())
    assert school.log.events == [] and school.log.recordings == []


def test_a_backfill_keeps_each_events_recorded_time_and_marks_who_brought_it_in(school: School) -> None:
    first, second = attempt(), attempt("s2")
    then = datetime(2026, 9, 15, 16, 0, tzinfo=UTC)
    backfill = Backfill(
        {first["event_id"]: (then, "teacher:old-system-7"), second["event_id"]: (then, "teacher:t9")}
    )
    record(school, first, second, backfill=backfill)
    [recording] = school.log.recordings
    assert recording.recorded == [(then, "teacher:old-system-7"), (then, "teacher:t9")]
    assert recording.migrated_by == "teacher:t1"

    early = attempt()
    before = Backfill({early["event_id"]: (datetime(2026, 9, 1, tzinfo=UTC), "teacher:t9")})
    with pytest.raises(InvalidInput) as raised:
        record(school, early, backfill=before)
    assert problems(raised) == [
        (
            ("body", "events", 0, "recorded_at"),
            "recorded_at is before occurred_at: nothing is recorded before it happens",
        )
    ]
