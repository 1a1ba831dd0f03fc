"""The record format of infra/kafka_messages.py: what the relay encodes the
workers decode back, and anything else is refused by name."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.kafka_messages import KIND, POSITION, EventRecord, MalformedRecord, Watermark, decode

records = st.builds(
    EventRecord,
    position=st.integers(1, 2**62),
    stream=st.uuids(),
    version=st.integers(1, 2**31),
    topic=st.from_regex(r"[a-z_.]+:[A-Za-z.]+", fullmatch=True),
    state=st.binary(max_size=200),
)


@given(records)
def test_an_event_comes_back_as_it_went(record: EventRecord) -> None:
    assert decode(record.headers, record.state) == record
    assert record.key == str(record.stream).encode()
    n = record.notification()
    assert (n.id, n.originator_id, n.originator_version, n.topic, n.state) == (
        record.position,
        record.stream,
        record.version,
        record.topic,
        record.state,
    )


@given(st.integers(0, 2**62))
def test_a_watermark_comes_back_as_it_went(position: int) -> None:
    assert decode(Watermark(position).headers, b"") == Watermark(position)


def test_one_stream_one_key() -> None:
    stream = uuid.uuid4()
    a = EventRecord(1, stream, 1, "t", b"{}")
    b = EventRecord(9, stream, 2, "t", b"{}")
    assert a.key == b.key


@pytest.mark.parametrize(
    ("headers", "says"),
    [
        (None, "unknown kind None"),
        ([(KIND, b"snapshot")], "unknown kind b'snapshot'"),
        ([(KIND, b"watermark")], "missing or bad header"),
        ([(KIND, b"watermark"), (POSITION, b"ten")], "missing or bad header"),
        ([(KIND, b"event"), (POSITION, b"1")], "missing or bad header"),
    ],
)
def test_anything_else_is_refused_by_name(headers: list[tuple[str, bytes]] | None, says: str) -> None:
    with pytest.raises(MalformedRecord, match=says.replace("(", r"\(")):
        decode(headers, b"")
