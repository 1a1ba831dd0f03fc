"""LearningEventMapper stores exactly what the library's mapper stores.

For every learning event class and payloads with awkward values, the stored
events it writes without building domain events equal those of
`learning_event(...)` through `Mapper.to_stored_event`: same stream, version,
topic and state bytes, with the store's transcoder and with the library's own,
with and without a compressor. And the library reads them back as the events.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.compressor import ZlibCompressor
from eventsourcing.persistence import JSONTranscoder, Mapper

from domain.ids import learner_stream
from domain.learner import LEARNING_EVENT_CLASSES, learning_event
from infra.eventstore import LedgerStore
from infra.learning_mapper import LearningEventMapper, NewLearningEvent, Recording
from tests.helpers import TRICKY_ATTEMPT_BODY

RECORDED = datetime(2026, 9, 14, 14, 30, 0, 123456, tzinfo=UTC)
BODIES: list[dict[str, Any]] = [
    {},
    TRICKY_ATTEMPT_BODY,
    # Values orjson writes unlike stdlib json: the transcoder's fallback keeps them identical.
    {"duration_seconds": 1e-05, "items": [{"big": 2**70, "inf": math.inf, "nan": math.nan, "tiny": -2.5e-7}]},
    {
        "results": [{"objective_id": "o1", "correct": 3, "total": 4}],
        "nested": [[[{"deep": [1.0, 0.0, -0.0]}]]],
    },
]
MOMENTS = [
    datetime(2026, 9, 14, 9, 30, tzinfo=timezone(timedelta(hours=-5))),
    datetime(2026, 6, 7, 7, 56, 52, 800000, tzinfo=UTC),
]


def mappers() -> list[Mapper[UUID]]:
    library = JSONTranscoder()
    LedgerStore().register_transcodings(library)
    store = LedgerStore().mapper  # the store's own: OrjsonTranscoder
    return [
        store,
        Mapper(transcoder=library),
        Mapper(transcoder=store.transcoder, compressor=ZlibCompressor()),
    ]


@pytest.mark.parametrize("mapper", mappers(), ids=["store", "library-transcoder", "compressed"])
@pytest.mark.parametrize("record_type", sorted(LEARNING_EVENT_CLASSES))
def test_stored_events_equal_the_library_mappers(mapper: Mapper[UUID], record_type: str) -> None:
    ours = LearningEventMapper(mapper)
    new: list[NewLearningEvent] = []
    expected = []
    for i, (body, occurred) in enumerate((b, m) for b in BODIES for m in MOMENTS):
        student = f"s-{i % 3}"
        event_id = f"00000000-0000-4000-8000-{i:012d}"
        personal = None if i % 2 else f"A1.sealed-{i}"
        new.append((record_type, learner_stream(student), 2 + i, student, event_id, occurred, body, personal))
        expected.append(
            learning_event(
                record_type,
                student_id=student,
                version=2 + i,
                recorded_at=RECORDED,
                event_id=event_id,
                occurred_at=occurred,
                recorded_by="teacher:Ms Rivera",
                request_id="req-1",
                payload=body,
                personal=personal,
            )
        )
    stored = ours.stored_events(new, Recording(RECORDED, "teacher:Ms Rivera", "req-1"))
    assert stored == [mapper.to_stored_event(e) for e in expected]
    # And the library reads them back as the events (NaN aside, which equals nothing).
    for got, want in zip(stored, expected, strict=True):
        back = mapper.to_domain_event(got)
        assert type(back) is type(want)
        assert repr(back) == repr(want)


@pytest.mark.parametrize("record_type", sorted(LEARNING_EVENT_CLASSES))
def test_backfilled_events_keep_their_own_recorded_at_and_recorder(record_type: str) -> None:
    """A backfill (events from another system) stores each event's own
    recorded_at and recorded_by, and who brought it in, as the library would."""
    mapper = LedgerStore().mapper
    ours = LearningEventMapper(mapper)
    when = [datetime(2025, 3, 4, 10, 15, tzinfo=UTC), datetime(2025, 3, 9, 8, 0, 1, 5, tzinfo=UTC)]
    who = ["teacher:Ms Rivera", "teacher:Mr Okafor"]
    new: list[NewLearningEvent] = []
    expected = []
    for i in range(2):
        event_id = f"00000000-0000-4000-8000-{i:012d}"
        occurred = when[i] - timedelta(days=1)
        new.append((record_type, learner_stream("s-1"), 1 + i, "s-1", event_id, occurred, BODIES[1], None))
        expected.append(
            learning_event(
                record_type,
                student_id="s-1",
                version=1 + i,
                recorded_at=when[i],
                event_id=event_id,
                occurred_at=occurred,
                recorded_by=who[i],
                request_id="req-9",
                payload=BODIES[1],
                personal=None,
                migrated_by="admin:migration",
            )
        )
    stored = ours.stored_events(
        new,
        Recording(
            RECORDED,
            "admin:migration",
            "req-9",
            recorded=list(zip(when, who, strict=True)),
            migrated_by="admin:migration",
        ),
    )
    assert stored == [mapper.to_stored_event(e) for e in expected]
