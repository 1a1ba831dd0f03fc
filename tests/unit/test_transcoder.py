"""OrjsonTranscoder writes and reads the library's JSONTranscoder format.

Every event class of the domain goes through the store's mapper with the new
transcoder and with the library's: the stored bytes are identical and each
side reads the other's. Edge values (UUIDs, tiny and non-finite floats,
integers beyond 64 bits, non-string keys, deep nesting) take the library's
path and so stay identical too; values are compared with their types, since
1 == 1.0 and a UUID's string is not a UUID.
"""

from __future__ import annotations

import inspect
import math
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate, CanMutateAggregate
from eventsourcing.persistence import JSONTranscoder, Mapper, TranscodingNotRegisteredError
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.learner import LEARNING_EVENT_CLASSES, Learner, learning_event
from domain.objective import Objective
from domain.profile import StudentProfile
from domain.roster import Course, School, SchoolClass
from domain.rules.model import Rule
from infra.eventstore import LedgerStore
from infra.transcoder import OrjsonTranscoder
from tests.helpers import TRICKY_ATTEMPT_BODY

AGGREGATES: tuple[type[Aggregate], ...] = (Learner, StudentProfile, Objective, School, SchoolClass)
T0 = datetime(2026, 9, 14, 9, 30, 0, 123456, tzinfo=UTC)
LOCAL = timezone(timedelta(hours=-5))


def library_transcoder() -> JSONTranscoder:
    """The library's transcoder as its Application registers it by default."""
    store = LedgerStore()  # in-memory (POPO) persistence: no I/O
    transcoder = JSONTranscoder()
    store.register_transcodings(transcoder)
    return transcoder


def fast_transcoder() -> OrjsonTranscoder:
    transcoder = LedgerStore().mapper.transcoder
    assert isinstance(transcoder, OrjsonTranscoder)
    return transcoder


LIB = library_transcoder()
FAST = fast_transcoder()


def same(a: Any, b: Any) -> bool:
    """Equal values of identical types, all the way down (NaN equals NaN, -0.0 is not 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or repr(a) == repr(b)
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Decimal):
        return str(a) == str(b)
    if isinstance(a, datetime):
        return bool(a == b and a.utcoffset() == b.utcoffset())
    return bool(a == b)


def event_classes() -> set[type]:
    """Every event class the domain's aggregates define (not the library's own
    per-aggregate `Event` and `Created` bases, nor the abstract LearningEvent)."""
    found: set[type] = set()
    for aggregate in AGGREGATES:
        for name, member in vars(aggregate).items():
            if (
                inspect.isclass(member)
                and issubclass(member, CanMutateAggregate)
                and name not in ("Event", "Created")
            ):
                found.add(member)
    return found - {Learner.LearningEvent}


BODIES: dict[str, dict[str, Any]] = {
    "attempt": TRICKY_ATTEMPT_BODY,
    "retake": {
        "objective_id": "alg1.u2.o4",
        "form": "B",
        "evidence": "exit_ticket",
        "score": {"percent": 87.25},
        "retake_of": str(uuid4()),
    },
    "reflection": {
        "on_event": str(uuid4()),
        "text": "I forgot to distribute the minus sign",
        "error_analysis": [{"item": 3, "cause": "sign error"}, {"item": {"part": "b"}, "cause": "x"}],
    },
    "override": {"objective_id": "alg1.u2.o4", "status": "mastered", "reason": "portfolio"},
    "benchmark": {
        "benchmark_id": "interim-1",
        "name": "Interim 1",
        "results": [{"objective_id": "alg1.u2.o4", "correct": 3, "total": 4}],
    },
    "goal": {"target_mastered": 12, "due": "2027-01-31"},
    "void": {"target_event_id": str(uuid4()), "reason": "entered for the wrong student"},
}
RULE = {
    "threshold": {"kind": "correct_of", "min_correct": 9, "of": 10},
    "time_limit_seconds": 600,
    "calculation": {"method": "decaying_average", "weight": 0.65},
}


def domain_events() -> list[Any]:
    """At least one event of every class, made the way the application makes them."""
    events: list[Any] = []
    profile = StudentProfile(student_id="s-1", sealed_name="A1.c2VhbGVk", grade="7", school_id="sch-1")
    profile.change("A1.cmVzZWFsZWQ=", "8", "sch-2")
    profile.erase("admin:dpo", "guardian's request of 2026-11-30")
    events += profile.collect_events()
    # The version-1 profile events, as stores before schema version 2 hold them.
    learner = Learner(student_id="s-1", name="Zoë Ng", grade="7", school_id="sch-1")
    learner.trigger_event(Learner.DetailsChanged, name="Zoë Ng-Park", grade="8", school_id="sch-2")
    events += learner.collect_events()
    for i, (record_type, body) in enumerate(BODIES.items()):
        events.append(
            learning_event(
                record_type,
                student_id="s-1",
                version=3 + i,
                recorded_at=T0,
                event_id=str(uuid4()),
                occurred_at=datetime(2026, 9, 14, 8, 0, tzinfo=LOCAL),
                recorded_by="teacher:t-1",
                request_id=str(uuid4()),
                payload=body,
                personal=f"A1.sealed-{i}" if i % 2 else None,
            )
        )
    objective = Objective(
        objective_id="alg1.u2.o4",
        statement="Solve one-step linear equations",
        subject="math",
        course="algebra-1",
        unit="u2",
        sequence=4,
        prerequisites=["alg1.u2.o3"],
        rule=RULE,
        effective_from=datetime(2026, 9, 1, tzinfo=UTC),
    )
    objective.revise(
        "Solve one-step equations",
        "math",
        "algebra-1",
        "u2",
        5,
        [],
        Rule.model_validate({**RULE, "calculation": {"method": "n_times", "n": 2}}),
        datetime(2027, 1, 1, tzinfo=LOCAL),
    )
    events += objective.collect_events()
    school = School(school_id="sch-1", name="Lincoln")
    school.rename("Lincoln Middle School")
    events += school.collect_events()
    klass = SchoolClass(
        class_id="c-1", name="7A", school_id="sch-1", teacher_ids=["t-1"], student_ids=["s-1"]
    )
    klass.revise("7A math", "sch-2", ["t-2"], ["s-2"])
    klass.assign_course(Course("course-alg1", "Algebra 1 — Zoë's section", "ALG1"))
    events += klass.collect_events()
    return events


EVENTS = domain_events()


def test_the_store_uses_the_fast_transcoder_with_the_library_transcodings() -> None:
    assert isinstance(FAST, OrjsonTranscoder)
    assert set(FAST.names) == set(LIB.names) == {"uuid_hex", "decimal_str", "datetime_iso"}
    assert {type(t) for t in FAST.names.values()} == {type(t) for t in LIB.names.values()}


def test_the_samples_cover_every_event_class_of_the_domain() -> None:
    assert {type(e) for e in EVENTS} == event_classes()
    assert set(LEARNING_EVENT_CLASSES.values()) <= event_classes()


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__qualname__)
def test_every_domain_event_round_trips_and_crosses_both_ways(event: Any) -> None:
    fast, lib = Mapper[UUID](transcoder=FAST), Mapper[UUID](transcoder=LIB)
    stored_fast = fast.to_stored_event(event)
    stored_lib = lib.to_stored_event(event)
    assert stored_fast == stored_lib  # byte for byte the library's stored state
    for read_by in (fast, lib):
        for stored in (stored_fast, stored_lib):
            back = read_by.to_domain_event(stored)
            assert back == event
            # The mapper puts originator_id and _version back last: compare by key.
            assert same(dict(sorted(vars(back).items())), dict(sorted(vars(event).items())))


EDGE_VALUES: list[Any] = [
    {"id": uuid4(), "ids": [uuid4(), {"nested": uuid4()}]},
    [Decimal("1.10"), Decimal("-0E-7"), Decimal("NaN")],
    {"aware": T0, "local": datetime(2026, 1, 1, tzinfo=LOCAL), "naive": datetime(2026, 1, 1, 12)},
    [0.0, -0.0, 1e-4, 9.99e-5, 1e-5, 5e-324, 1.5e-7, 123.456, 1e16, 1.7976931348623157e308, -2.5e-6],
    [math.nan, math.inf, -math.inf],
    [2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 2**70, -(10**30)],
    {"tuple": (1, "a", (2.5, None)), "empty": [{}, [], ""], "flags": [True, False, None]},
    {1: "int key", "s": "str key"},
    {"_type_": "datetime_iso", "_data_": "2026-01-01T00:00:00+00:00"},  # the library decodes it too
    {"_type_": "only one key"},
    "".join(chr(c) for c in range(0x20)) + '"\\/\x7f\u2028\u2029é€𝄞',
    "2026-09-14T09:30:00Z",
    str(uuid4()),
    12,
    None,
]


def nested(depth: int) -> Any:
    value: Any = {"leaf": T0}
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


@pytest.mark.parametrize("value", [*EDGE_VALUES, nested(30), nested(300)], ids=lambda v: type(v).__name__)
def test_edge_values_encode_as_the_library_does_and_decode_alike(value: Any) -> None:
    data = LIB.encode(value)
    assert FAST.encode(value) == data
    assert same(FAST.decode(data), LIB.decode(data))


@pytest.mark.parametrize(
    "data",
    [
        b'{"big": 18446744073709551616, "neg": -9223372036854775809}',
        b'{"f": 1.8446744073709552e+19, "g": 1e400}',
        b"[NaN, Infinity, -Infinity]",
        b'{"\\u005ftype_": "uuid_hex", "_data_": "6f1d4c1e5b0a4c8e9a573c2f0e6b9d10"}',
        b'{"s": "\\ud83d\\ude00 \\u00e9 \\n"}',
        b'"\\ud800 a lone surrogate"',
        b'{"a": 1, "a": 2}',
        b' [1, {"_type_": "decimal_str", "_data_": "0.1"}] ',
        b"12345678901234567890123",
    ],
)
def test_documents_the_library_reads_are_read_alike(data: bytes) -> None:
    assert same(FAST.decode(data), LIB.decode(data))


@pytest.mark.parametrize(
    "data",
    [b'{"x": {"_type_": "unknown", "_data_": 1}}', b"{", b"\xff", b'{"a": 1} x'],
)
def test_documents_the_library_refuses_are_refused_alike(data: bytes) -> None:
    with pytest.raises(Exception) as lib_error:
        LIB.decode(data)
    with pytest.raises(type(lib_error.value)):
        FAST.decode(data)


@pytest.mark.parametrize("value", [{"d": date(2026, 1, 1)}, {"s": {1, 2}}, [object()]])
def test_unregistered_types_are_refused_alike(value: Any) -> None:
    with pytest.raises(TranscodingNotRegisteredError):
        LIB.encode(value)
    with pytest.raises(TranscodingNotRegisteredError):
        FAST.encode(value)


LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.uuids()
    | st.decimals(allow_nan=False)
    | st.datetimes(timezones=st.none() | st.timezones())
)
TREES = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400)
@given(TREES)
def test_any_tree_of_registered_and_plain_values_is_identical(value: Any) -> None:
    data = LIB.encode(value)
    assert FAST.encode(value) == data
    assert same(FAST.decode(data), LIB.decode(data))
