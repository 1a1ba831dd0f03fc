"""The records on the event topic: what the relay publishes and the projection
workers read (one format, both sides import it; docs/kafka.md describes it).

Two kinds of record, told apart by the header `mastery-kind`:

* an **event** (`b"event"`): one row of the PostgreSQL event log. Key: the
  stream id (its canonical text, so the default partitioner puts every event
  of one stream on one partition, in log order). Value: the row's stored
  state, byte for byte (the library's stored format, which
  `store.mapper.to_domain_event(record.notification())` decodes). Headers:
  `mastery-position` (the log position), `mastery-stream`, `mastery-version`
  (the stream version), `mastery-topic` (the event class's topic).
* a **watermark** (`b"watermark"`): sent by the relay to every partition now
  and then, and after each published batch when the log goes idle. Value
  empty, no key, header `mastery-position` P: every event at log position
  ≤ P that belongs on this partition is at a lower offset of it. A worker
  that has applied its partition up to a watermark's offset may report the
  partition applied up to P even when no event of it came for a while.

Delivery is at least once. A record may appear more than once on its
partition (a batch the relay re-sent because the broker's answer did not
come: the earlier copy may still have been stored, and may even be stored
after the re-sent one), so a consumer keeps, per stream, the last version it
applied and drops a record at or below it. Apart from such copies, the
events of a stream arrive in version order with none left out. A relay reset
(`mastery relay-reset`) republishes from a chosen position: everything
after it comes again, and watermarks go back to lower positions (a consumer
keeps the highest it has seen).

Every header value is ASCII. The key and headers are bytes, as Kafka
clients hand them over.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.persistence import Notification

KIND = "mastery-kind"
POSITION = "mastery-position"
STREAM = "mastery-stream"
VERSION = "mastery-version"
TOPIC = "mastery-topic"
EVENT = b"event"
WATERMARK = b"watermark"

Headers = list[tuple[str, bytes]]


class MalformedRecord(ValueError):
    """A record on the topic that is neither of the two kinds, or lacks a header."""


@dataclass(frozen=True)
class EventRecord:
    position: int
    stream: UUID
    version: int
    topic: str
    state: bytes

    @property
    def key(self) -> bytes:
        return str(self.stream).encode()

    @property
    def headers(self) -> Headers:
        return [
            (KIND, EVENT),
            (POSITION, str(self.position).encode()),
            (STREAM, self.key),
            (VERSION, str(self.version).encode()),
            (TOPIC, self.topic.encode()),
        ]

    def notification(self) -> Notification:
        """The log row as the event store's reads give it (what a mapper decodes)."""
        return Notification(
            id=self.position,
            originator_id=self.stream,
            originator_version=self.version,
            topic=self.topic,
            state=self.state,
        )


@dataclass(frozen=True)
class Watermark:
    position: int

    @property
    def headers(self) -> Headers:
        return [(KIND, WATERMARK), (POSITION, str(self.position).encode())]


def decode(headers: Sequence[tuple[str, bytes]] | None, value: bytes | None) -> EventRecord | Watermark:
    """A consumed record (`record.headers`, `record.value`) as what it says."""
    found = dict(headers or ())
    kind = found.get(KIND)
    try:
        if kind == WATERMARK:
            return Watermark(_int(found, POSITION))
        if kind == EVENT:
            return EventRecord(
                position=_int(found, POSITION),
                stream=UUID(_text(found, STREAM)),
                version=_int(found, VERSION),
                topic=_text(found, TOPIC),
                state=bytes(value or b""),
            )
    except (KeyError, ValueError) as e:
        raise MalformedRecord(f"a {kind!r} record with a missing or bad header: {e}") from None
    raise MalformedRecord(f"a record of unknown kind {kind!r} (header {KIND})")


def _text(found: dict[str, bytes], name: str) -> str:
    return found[name].decode("ascii")


def _int(found: dict[str, bytes], name: str) -> int:
    return int(_text(found, name))


def event_records(rows: Iterable[tuple[int, UUID, int, str, bytes]]) -> list[EventRecord]:
    """Log rows (position, stream, version, topic, state) as records."""
    return [
        EventRecord(pos, stream, version, topic, bytes(state)) for pos, stream, version, topic, state in rows
    ]
