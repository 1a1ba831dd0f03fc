"""Timing helpers every bench measure shares."""

from __future__ import annotations

import statistics
import time

import httpx


def percentiles(samples: list[float]) -> dict[str, float]:
    """Milliseconds: p50, p99, max, mean, count."""
    ms = sorted(s * 1000 for s in samples)
    if not ms:
        return {"n": 0}

    def q(p: float) -> float:
        return ms[min(len(ms) - 1, round(p * (len(ms) - 1)))]

    return {"n": len(ms), "p50": q(0.50), "p99": q(0.99), "max": ms[-1], "mean": statistics.fmean(ms)}


def timed_gets(c: httpx.Client, paths: list[str]) -> list[float]:
    """Seconds each GET took, in order; anything but a 200 stops the measure.
    (FastAPI's TestClient is an httpx.Client too.)"""
    out = []
    for p in paths:
        t = time.perf_counter()
        r = c.get(p)
        out.append(time.perf_counter() - t)
        if r.status_code != 200:
            raise RuntimeError(f"GET {p}: {r.status_code} {r.text[:300]}")
    return out
