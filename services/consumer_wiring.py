"""The projection worker in a serving process (role `projections`, or role
`all`, with MASTERY_KAFKA_BOOTSTRAP): its thread, its /ready check and its
/metrics. Without Kafka the process tails the log instead (Ledger.start_projections)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from infra.settings import Settings
from services.bootstrap import Ledger
from services.ops import Check, Ops
from services.projections.kafka_worker import KafkaWorker

JOIN_TIMEOUT_S = 15.0
TICK_EVERY_S = 1.0


class WorkerThread:
    def __init__(self, settings: Settings, ledger: Ledger) -> None:
        runner = ledger.runner
        self.worker = KafkaWorker(settings, ledger.store, ledger.engine, runner.projections)
        # Reads waiting for a position hear of every batch, as from the log tailer.
        self.worker.after_batch = runner.after_batch
        last_tick = [0.0]

        def tick() -> None:
            # The rule clock: any worker may act on it; the runner's tick takes
            # the log source's tracking locks, so two workers take turns.
            if time.monotonic() - last_tick[0] >= TICK_EVERY_S:
                last_tick[0] = time.monotonic()
                runner.tick_safely()

        self.worker.idle.append(tick)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self.worker.run, args=(self._stop,), name="projection-worker", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=JOIN_TIMEOUT_S)


def start_worker(settings: Settings, ledger: Ledger, ops: Ops) -> WorkerThread:
    """Start the worker and add its check and metrics to the process's /ready and /metrics."""
    thread = WorkerThread(settings, ledger)
    status = thread.worker.status
    ops.checks.append(Check("projection worker", lambda _ledger: status.not_ready()))

    def worker_metrics(ledger: Ledger) -> Iterator[Metric]:
        # Lag from the log's positions: a broker's end offsets need not be
        # right (Tansu's are not), and positions are what reads wait for.
        head = ledger.store.head_position()
        lag = GaugeMetricFamily(
            "mastery_consumer_lag_positions",
            "Log head minus the position up to which this worker has applied each partition it holds",
            labels=["partition"],
        )
        position = GaugeMetricFamily(
            "mastery_consumer_partition_position",
            "Log position up to which each partition this worker holds is applied",
            labels=["partition"],
        )
        for p, at in sorted(dict(status.positions).items()):
            lag.add_metric([str(p)], max(0, head - at))
            position.add_metric([str(p)], at)
        yield lag
        yield position
        yield GaugeMetricFamily(
            "mastery_consumer_partitions_behind",
            "Partitions whose topic is behind this worker's recorded positions (see /ready)",
            len(status.behind),
        )

    ops.samplers.append(worker_metrics)
    thread.start()
    return thread
