"""The relay in a serving process: its thread, its /ready check and its
/metrics (role `relay`, or role `all` with MASTERY_KAFKA_BOOTSTRAP)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from infra.settings import Settings
from services.bootstrap import Ledger
from services.ops import Check, Ops
from services.relay.publisher import Relay
from services.relay.status import EVENTS_PUBLISHED, RelayStatus

JOIN_TIMEOUT_S = 20.0  # a batch in flight is waited for (its flush gives up within 15 s)


def runs_relay(role: str, settings: Settings) -> bool:
    return role == "relay" or (role == "all" and settings.kafka_bootstrap is not None)


class RelayThread:
    def __init__(self, settings: Settings) -> None:
        self.status = RelayStatus()
        self.relay = Relay(settings, status=self.status)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.relay.run, args=(self._stop,), name="relay", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=JOIN_TIMEOUT_S)


def start_relay(settings: Settings, ops: Ops, role: str) -> RelayThread:
    """Start the relay and add its check and metrics to the process's /ready and /metrics."""
    thread = RelayThread(settings)
    status = thread.status
    if role == "relay":
        # The relay reads only the event log: the read models' state is not its to report.
        ops.checks[:] = [c for c in ops.checks if c.name == "event store"]
    ops.checks.append(Check("relay", lambda _ledger: status.not_ready()))

    def relay_metrics(ledger: Ledger) -> Iterator[Metric]:
        head = ledger.store.head_position()
        yield GaugeMetricFamily(
            "mastery_relay_lag_events",
            "Log head minus the relay's published position: events committed and not yet in Kafka",
            max(0, head - status.published),
        )
        yield GaugeMetricFamily(
            "mastery_relay_published_position",
            "Log position up to which every event is in Kafka (recorded after the broker acknowledged)",
            status.published,
        )
        yield GaugeMetricFamily(
            "mastery_relay_holds_lock", "1 while this relay holds the publishing lock", int(status.holds_lock)
        )
        yield GaugeMetricFamily(
            "mastery_relay_broker_up", "1 while the Kafka broker acknowledges", int(status.broker_answers)
        )
        yield from EVENTS_PUBLISHED.collect()

    ops.samplers.append(relay_metrics)
    thread.start()
    return thread
