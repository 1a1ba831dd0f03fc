"""What `GET /metrics` says (Prometheus text format).

Counters and histograms are the process's own (one set, however many apps a
test builds); what is read from the stores (log head, projection positions)
is sampled from the app's ledger when /metrics is scraped. Other parts add
samplers of their own to `Ops.samplers` (services/ops.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from infra.tracking import reached_position
from services.bootstrap import Ledger
from services.instruments import EVENTS_INGESTED, REQUEST_SECONDS

log = logging.getLogger(__name__)

# A sampler reads something from the ledger at scrape time and yields metric families.
Sampler = Callable[[Ledger], Iterable[Metric]]


def log_head(ledger: Ledger) -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "mastery_log_head_position",
        "Position of the last event in the event log",
        ledger.store.head_position(),
    )


def projection_positions(ledger: Ledger) -> Iterator[Metric]:
    gauge = GaugeMetricFamily(
        "mastery_projection_position",
        "Log position each projection's read models have reached",
        labels=["projection"],
    )
    with ledger.engine.connect() as conn:
        for projection in ledger.runner.projections:
            at = reached_position(conn, [projection.name], ledger.runner.kind)
            gauge.add_metric([projection.name], at)
    yield gauge


def events_set_aside(ledger: Ledger) -> Iterator[Metric]:
    gauge = GaugeMetricFamily(
        "mastery_projection_events_set_aside",
        "Events a projection could not apply and set aside, or holds behind one (mastery projections retry)",
        labels=["projection"],
    )
    for name, count in sorted(ledger.runner.parked().items()):
        gauge.add_metric([name], count)
    yield gauge


def access_log_writes(ledger: Ledger) -> Iterator[Metric]:
    """The access log's writer (infra/access_log.py): a backlog that grows, or
    failed writes that climb, mean reads are being recorded in memory only."""
    yield GaugeMetricFamily(
        "mastery_access_log_backlog",
        "Access-log entries this process has queued and not written to the trust store yet",
        ledger.access.backlog,
    )
    yield CounterMetricFamily(
        "mastery_access_log_failed_writes",
        "Writes of access-log entries the trust store refused (each is kept and tried again)",
        ledger.access.failed_writes,
    )


class _Sampled(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self._families)


def sample(ledger: Ledger, samplers: list[Sampler]) -> list[Metric]:
    """Every sampler's families; one that fails is left out (and logged):
    a store that does not answer is /ready's to report, and the rest of the
    metrics, latencies above all, matter most then."""
    families: list[Metric] = []
    for sampler in samplers:
        try:
            families += sampler(ledger)
        except Exception:
            log.warning("metrics: %s failed", getattr(sampler, "__name__", sampler), exc_info=True)
    return families


def exposition(sampled: list[Metric]) -> bytes:
    """The text /metrics answers: the process's counters and histograms, its
    own figures (CPU, memory, open files) and what was sampled."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(REQUEST_SECONDS)
    registry.register(EVENTS_INGESTED)
    ProcessCollector(registry=registry)
    registry.register(_Sampled(sampled))
    return generate_latest(registry)
