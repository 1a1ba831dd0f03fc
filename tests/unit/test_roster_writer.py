"""The roster and catalog writer (services/ingest/roster.py) against
in-memory ports (tests/unit/fake_ports.py): a PUT creates, changes or
changes nothing; what it refuses stores nothing; names are sealed; an
erasure is recorded before the key goes; a PUT that meets another writer's
version reads the record again and decides again."""

from __future__ import annotations

import pytest

from domain.ids import class_stream, profile_stream, school_stream
from domain.profile import StudentProfile
from domain.roster import School, SchoolClass
from infra.keys import NAME_CONTEXT
from services.errors import Conflict, InvalidInput, NotFound
from services.ingest.roster import RosterWriter
from services.ingest.schemas import ClassIn, ObjectiveIn, SchoolIn, StudentIn
from tests.unit.fake_ports import InMemoryAggregateLog, InMemoryKeyRing

RULE = {"threshold": {"kind": "correct_of", "min_correct": 9, "of": 10}}


class Roster:
    def __init__(self) -> None:
        self.log = InMemoryAggregateLog()
        self.keys = InMemoryKeyRing()
        self.writer = RosterWriter(self.log, self.keys)

    def school(self, school_id: str = "sch1", name: str = "Lincoln Middle") -> None:
        self.writer.put_school(school_id, SchoolIn(name=name))

    def student(self, student_id: str, name: str = "Ana Lima", grade: str = "7") -> None:
        self.writer.put_student(student_id, StudentIn(name=name, grade=grade, school_id="sch1"))


@pytest.fixture
def roster() -> Roster:
    r = Roster()
    r.school()
    return r


def objective(*prerequisites: str) -> ObjectiveIn:
    return ObjectiveIn.model_validate(
        {
            "statement": "Solve linear equations",
            "subject": "math",
            "course": "alg1",
            "unit": "u1",
            "rule": RULE,
        }
        | {"prerequisites": list(prerequisites)}
    )


def test_a_put_creates_then_changes_nothing_then_records_the_change(roster: Roster) -> None:
    again = roster.writer.put_school("sch1", SchoolIn(name="Lincoln Middle"))
    assert (again.created, again.changed, again.position) == (False, False, 1)
    renamed = roster.writer.put_school("sch1", SchoolIn(name="Lincoln Middle School"))
    assert (renamed.created, renamed.changed, renamed.position) == (False, True, 2)
    school = roster.log.aggregate(school_stream("sch1"))
    assert isinstance(school, School) and school.name == "Lincoln Middle School"


def test_a_students_name_is_sealed_under_their_key_and_the_same_name_changes_nothing(roster: Roster) -> None:
    roster.student("s1")
    profile = roster.log.aggregate(profile_stream("s1"))
    assert isinstance(profile, StudentProfile) and "Ana" not in profile.sealed_name
    assert roster.keys.keys["s1"].open(profile.sealed_name, NAME_CONTEXT) == "Ana Lima"
    same = roster.writer.put_student("s1", StudentIn(name="Ana Lima", grade="7", school_id="sch1"))
    assert (same.created, same.changed) == (False, False)  # sealed again it would differ: not resealed
    moved_up = roster.writer.put_student("s1", StudentIn(name="Ana Lima", grade="8", school_id="sch1"))
    assert moved_up.changed
    profile = roster.log.aggregate(profile_stream("s1"))
    assert isinstance(profile, StudentProfile) and profile.grade == "8"


def test_what_is_refused_is_named_and_stores_nothing(roster: Roster) -> None:
    roster.student("s1")
    before = roster.log.position
    with pytest.raises(InvalidInput) as raised:
        roster.writer.put_student("s2", StudentIn(name="Ben", grade="7", school_id="sch9"))
    assert raised.value.errors == [{"loc": ["body", "school_id"], "msg": "unknown school 'sch9'"}]
    with pytest.raises(InvalidInput) as raised:
        roster.writer.put_class(
            "c1", ClassIn(name="Math 7", school_id="sch1", student_ids=["s1", "s7", "s8"])
        )
    assert [(e["loc"], e["msg"]) for e in raised.value.errors or []] == [
        (["body", "student_ids", 1], "unknown student 's7'"),
        (["body", "student_ids", 2], "unknown student 's8'"),
    ]
    with pytest.raises(InvalidInput) as raised:
        roster.writer.put_objective("o1", objective("o1", "o0"))
    assert [(e["loc"], e["msg"]) for e in raised.value.errors or []] == [
        (["body", "prerequisites", 1], "unknown objective 'o0'"),
        (["body", "prerequisites"], "an objective cannot be its own prerequisite"),
    ]
    assert roster.log.position == before


def test_an_erasure_is_recorded_then_the_key_destroyed_and_the_student_takes_no_more(roster: Roster) -> None:
    roster.student("s1")
    out = roster.writer.erase_student("s1", "admin:dpo", "request 42")
    assert out.changed and "s1" not in roster.keys.keys and "s1" in roster.keys.erased
    profile = roster.log.aggregate(profile_stream("s1"))
    assert isinstance(profile, StudentProfile) and profile.erased_at is not None
    with pytest.raises(Conflict, match="was erased"):
        roster.student("s1", name="Ana L.")
    again = roster.writer.erase_student("s1", "admin:dpo", "request 42")
    assert not again.changed
    with pytest.raises(NotFound):
        roster.writer.erase_student("nobody", "admin:dpo", "request 43")


def test_a_put_meeting_another_writers_version_reads_again_and_decides_again(roster: Roster) -> None:
    roster.student("s1")
    roster.student("s2", name="Ben Okafor")
    members = ClassIn(name="Math 7", school_id="sch1", student_ids=["s1"])
    roster.writer.put_class("c1", members)
    other = RosterWriter(roster.log, roster.keys)  # another process, same store
    # Between this PUT's read and its record, the other process records a change of the class.
    roster.log.meanwhile = lambda: other.put_class(
        "c1", ClassIn(name="Math 7", school_id="sch1", student_ids=["s2"])
    )
    out = roster.writer.put_class("c1", ClassIn(name="Math 7", school_id="sch1", student_ids=["s1", "s2"]))
    assert out.changed
    c1 = roster.log.aggregate(class_stream("c1"))
    # Decided on the other's class (s2 alone), not on the one first read (s1 alone): s1 enrolled again.
    assert isinstance(c1, SchoolClass) and sorted(c1.student_ids) == ["s1", "s2"]
    kinds = [type(e).__name__ for e in roster.log.streams[class_stream("c1")]]
    assert kinds == ["Formed", "StudentsUnenrolled", "StudentsEnrolled", "StudentsEnrolled"], kinds
