"""Stored events for a batch of learning events, without building domain event objects.

The library's way, `learning_event(...)` then `Mapper.to_stored_event`, costs
per event a dataclass instance, `vars()`, a topic lookup and a transcoder call
that formats two datetimes, one of which (recorded_at) is the same for the
whole batch. `LearningEventMapper` writes the same `StoredEvent`: the topic of
the event's class, and the state the mapper would encode, key for key in the
order `vars()` gives, through the store's own transcoder (then compressor and
cipher, if configured, in the mapper's order). The datetimes go in as the
dicts the library's JSON transcoder turns them into (`_encode_obj`, the
encoder's `default`), so the bytes are the same; recorded_at is formatted once.

At construction it maps one probe event both ways and refuses to run if the
results differ; the tests compare every learning event class.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder, Mapper, StoredEvent
from eventsourcing.utils import get_topic

from domain.learner import LEARNING_EVENT_CLASSES, learning_event

__all__ = ["LearningEventMapper", "NewLearningEvent", "Recording"]

# (record type, stream, version, student_id, event_id, occurred_at, payload, sealed personal data)
NewLearningEvent = tuple[str, UUID, int, str, str, datetime, dict[str, Any], str | None]


@dataclass(frozen=True)
class Recording:
    """Who recorded a batch, when, and under which request. `recorded`: each
    event's own (recorded_at, recorded_by) when the batch comes from another
    system (a backfill), `migrated_by` who brought it in; otherwise the batch's."""

    recorded_at: datetime
    recorded_by: str
    request_id: str
    recorded: Sequence[tuple[datetime, str]] | None = None
    migrated_by: str | None = None


class LearningEventMapper:
    def __init__(self, mapper: Mapper[UUID]) -> None:
        if not isinstance(mapper.transcoder, JSONTranscoder):
            raise TypeError("LearningEventMapper writes the JSON transcoder's format")
        self.mapper = mapper
        self.transcoder: JSONTranscoder = mapper.transcoder
        classes = LEARNING_EVENT_CLASSES.items()
        self.topics = {record_type: get_topic(cls) for record_type, cls in classes}
        self.fields = {record_type: cls.payload_fields for record_type, cls in classes}
        self.versions = {record_type: cls.class_version for record_type, cls in classes}
        self._check_against_library()

    def stored_events(self, events: Iterable[NewLearningEvent], recording: Recording) -> list[StoredEvent]:
        wrap = self._wrap_datetime()
        encode = self.transcoder.encode
        compressor, cipher = self.mapper.compressor, self.mapper.cipher
        topics, fields, versions = self.topics, self.fields, self.versions
        timestamp, recorded_by = wrap(recording.recorded_at), recording.recorded_by
        request_id, recorded, migrated_by = recording.request_id, recording.recorded, recording.migrated_by
        out: list[StoredEvent] = []
        for i, (record_type, stream, version, student_id, event_id, occurred_at, payload, personal) in (
            enumerate(events)
        ):
            if recorded is not None:
                timestamp, recorded_by = wrap(recorded[i][0]), recorded[i][1]
            # The keys and their order are those of vars() of the event class
            # without originator_id and originator_version, then its class
            # version, as Mapper.to_stored_event has them.
            values: dict[str, Any] = {
                "timestamp": timestamp,
                "student_id": student_id,
                "event_id": event_id,
                "occurred_at": wrap(occurred_at),
                "recorded_by": recorded_by,
                "request_id": request_id,
                "personal": personal,
                "migrated_by": migrated_by,
            }
            for name in fields[record_type]:
                values[name] = payload.get(name)
            values["class_version"] = versions[record_type]
            state = encode(values)
            if compressor:
                state = compressor.compress(state)
            if cipher:
                state = cipher.encrypt(state)
            out.append(StoredEvent(stream, version, topics[record_type], state))
        return out

    def _wrap_datetime(self) -> Callable[[datetime], dict[str, Any]]:
        """What the library's JSON encoder turns a datetime into: its `default`
        (`_encode_obj`); for the library's own DatetimeAsISO, that inlined."""
        transcoding = self.transcoder.types.get(datetime)
        if type(transcoding) is DatetimeAsISO:
            name = transcoding.name
            return lambda dt: {"_type_": name, "_data_": dt.isoformat()}
        return self.transcoder._encode_obj

    def _check_against_library(self) -> None:
        now = datetime.now(UTC)
        payload = {"objective_id": "probe-objective", "score": {"percent": 12.5}}
        probe = learning_event(
            "attempt",
            student_id="probe",
            version=2,
            recorded_at=now,
            event_id="probe-event",
            occurred_at=now,
            recorded_by="probe:who",
            request_id="probe-request",
            payload=payload,
            personal="A1.probe",
        )
        ours = self.stored_events(
            [("attempt", probe.originator_id, 2, "probe", "probe-event", now, payload, "A1.probe")],
            Recording(now, "probe:who", "probe-request"),
        )[0]
        # With a cipher the bytes differ on every call (nonces); compare what it decrypts to.
        if self.mapper.cipher is None and ours != self.mapper.to_stored_event(probe):
            raise RuntimeError("LearningEventMapper no longer writes what the library's mapper writes")
        if self.mapper.to_domain_event(ours) != probe:
            raise RuntimeError("LearningEventMapper writes events the library's mapper reads differently")
