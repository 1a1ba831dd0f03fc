"""The process's own counters and histograms, which the services and the
middleware update and `GET /metrics` exposes (services/metrics.py). Apart
from the samplers there, which read the composition root's adapters, so that
a service counting something imports no other service through them."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUEST_SECONDS = Histogram(
    "mastery_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by route template and status",
    ["method", "route", "status"],
    # Reads answer in milliseconds; the tail is what matters.
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=None,
)
EVENTS_INGESTED = Counter(
    "mastery_events_ingested",
    "Learning events posted to this process, by outcome (stored, or duplicate of one stored before)",
    ["outcome"],
    registry=None,
)
