"""(f) PUT /v1/students/{id} beside the same PUT of a student with no events.

Issue 11 moved the profile out of the learning stream: a PUT reads and writes
the profile's own short stream, so its cost must not grow with the student's
learning history. Measured on `heavy` (thousands of events) and on a student
with none, alternating the name so that every PUT records a change; the
ratio of the two medians is the figure (1.0: flat)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from bench.timing import percentiles
from services.demo.district import District

PUTS = 100


def profile_puts(c: httpx.Client, district: District) -> dict[str, Any]:
    out: dict[str, Any] = {}
    school = district.classes()[0][1]  # `heavy` is in the first class
    for label, student in (("history", "heavy"), ("none", _without_events(c, district))):
        events = len(c.get(f"/v1/students/{student}/history").json()["events"])
        samples = []
        for i in range(PUTS):
            body = {"name": f"Renamed {i % 2}", "grade": "7", "school_id": school}
            t = time.perf_counter()
            r = c.put(f"/v1/students/{student}", json=body)
            samples.append(time.perf_counter() - t)
            r.raise_for_status()
        out[label] = {"student": student, "events": events, **percentiles(samples)}
    out["ratio_p50"] = out["history"]["p50"] / out["none"]["p50"]
    return out


def _without_events(c: httpx.Client, district: District) -> str:
    """A rostered student with no learning events, added for the measure."""
    school = district.classes()[0][1]
    r = c.put("/v1/students/bench-no-events", json={"name": "No Events", "grade": "7", "school_id": school})
    r.raise_for_status()
    return "bench-no-events"
