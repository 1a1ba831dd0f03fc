"""One `mastery serve` process at a time, started as the console script on a
free port and stopped or SIGKILLed, and the HTTP helpers the e2e tests talk
to it with."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench.ports import free_port

MASTERY = str(Path(sys.executable).with_name("mastery"))
TOKEN = "e2e-bootstrap-token"
START_TIMEOUT = 60.0
Event = dict[str, Any]


class Server:
    """One `mastery serve` process at a time on a data dir (and database, if any)."""

    def __init__(self, env: dict[str, str], data_dir: Path) -> None:
        self.env = env
        self.data_dir = data_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data_dir.parent / "serve.log"
        self.base = ""

    def start(self, *args: str) -> httpx.Client:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [MASTERY, "serve", "--data-dir", str(self.data_dir), "--port", str(port), *args],
                env=self.env,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"mastery serve exited {self.proc.returncode}: {self.tail()}")
            try:
                if httpx.get(f"{self.base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"mastery serve did not answer within {START_TIMEOUT:g} s: {self.tail()}"
                )
            time.sleep(0.05)
        return httpx.Client(base_url=self.base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)

    def kill(self) -> None:
        """SIGKILL: no shutdown hook, no flush, no goodbye."""
        assert self.proc is not None and self.proc.poll() is None, "not running"
        self.proc.send_signal(signal.SIGKILL)
        assert self.proc.wait(10) == -signal.SIGKILL

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


def ok(r: httpx.Response, *statuses: int) -> Any:
    assert r.status_code in (statuses or (200,)), (
        f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    )
    return r.json()


def post(http: httpx.Client, events: list[Event]) -> dict[str, Any]:
    out: dict[str, Any] = ok(http.post("/v1/events", json={"events": events}))
    return out


def mastery(http: httpx.Client, student: str, **params: Any) -> list[dict[str, Any]]:
    body = ok(http.get(f"/v1/students/{student}/mastery", params=params))
    rows: list[dict[str, Any]] = body["objectives"]
    return sorted(rows, key=lambda r: r["objective_id"])


def replayed(http: httpx.Client, student: str) -> list[dict[str, Any]]:
    """The same answer computed by replaying the event store, not read from the read model."""
    return mastery(http, student, known_at="2100-01-01T00:00:00Z")


def history(http: httpx.Client, student: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = ok(http.get(f"/v1/students/{student}/history"))["events"]
    return events


def wait_projected(http: httpx.Client, position: int, timeout: float = 60.0) -> None:
    """Wait (through min_position, which itself waits up to 5 s) until reads reach `position`."""
    deadline = time.monotonic() + timeout
    while True:
        r = http.get("/v1/students/s00/mastery", params={"min_position": position})
        if r.status_code == 200:
            assert int(r.headers["X-Projection-Position"]) >= position
            return
        assert r.status_code == 503 and r.headers["Retry-After"], r.text
        assert time.monotonic() < deadline, f"projections stuck below {position}"


def snapshot(http: httpx.Client, students: list[str]) -> dict[str, list[dict[str, Any]]]:
    return {s: mastery(http, s) for s in students}
