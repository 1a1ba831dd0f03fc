"""What a relay knows of itself, for /ready and /metrics (set by its thread,
read by requests: single assignments of plain values, no lock needed)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import Counter

EVENTS_PUBLISHED = Counter(
    "mastery_relay_events_published",
    "Events this relay has published to Kafka and the broker acknowledged (re-sent ones counted again)",
    registry=None,
)


@dataclass
class RelayStatus:
    holds_lock: bool = False
    standing_by: bool = False  # another relay holds the lock
    broker_answers: bool = False
    problem: str | None = None  # the last failure, until the next batch goes through
    published: int = 0  # the recorded position: everything up to it is in Kafka
    head: int = 0  # the log's head as last read
    watermarked: int = 0
    partitions: list[int] = field(default_factory=list)

    def advanced(self, position: int, events: int) -> None:
        self.published = position
        self.problem = None
        self.broker_answers = True
        EVENTS_PUBLISHED.inc(events)

    def failed(self, why: str) -> None:
        self.problem = why

    def not_ready(self) -> str | None:
        """Why the relay is not publishing, or None."""
        if self.standing_by:
            return "standing by: another relay holds the publishing lock"
        if not self.holds_lock:
            return f"not holding the publishing lock ({self.problem or 'starting'})"
        if not self.broker_answers:
            return f"the Kafka broker does not answer ({self.problem or 'connecting'})"
        return None
