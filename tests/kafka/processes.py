"""Roles of `mastery serve` as real processes on one PostgreSQL database and
one Kafka topic, for the tests that kill, stop and start them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.ports import free_port

MASTERY = str(Path(sys.executable).with_name("mastery"))
TOKEN = "kafka-bootstrap-token"
START_TIMEOUT_S = 60.0


def role_env(database_url: str, bootstrap: str, topic: str, partitions: int, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTERY_")}
    env.update(
        MASTERY_DATABASE_URL=database_url,
        MASTERY_KAFKA_BOOTSTRAP=bootstrap,
        MASTERY_KAFKA_TOPIC=topic,
        MASTERY_KAFKA_PARTITIONS=str(partitions),
        MASTERY_BOOTSTRAP_TOKEN=TOKEN,
        MASTERY_LOG_FORMAT="json",
        **more,
    )
    return env


@dataclass
class Role:
    """One `mastery serve --role ROLE` process (started again after a kill on a new port)."""

    role: str
    env: dict[str, str]
    workdir: Path
    proc: subprocess.Popen[bytes] | None = None
    base: str = ""
    starts: int = 0
    logs: list[Path] = field(default_factory=list)

    def start(self, wait_ready: bool = False) -> Role:
        assert self.proc is None or self.proc.poll() is not None, f"{self.role} already running"
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.starts += 1
        log_path = self.workdir / f"{self.role}-{id(self)}-{self.starts}.log"
        self.logs.append(log_path)
        with log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [MASTERY, "serve", "--role", self.role, "--port", str(port), "--data-dir", str(self.workdir)],
                env=self.env,
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        path = "/ready" if wait_ready else "/health"
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.role} exited {self.proc.returncode}: {self.tail()}")
            try:
                if httpx.get(f"{self.base}{path}", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.role}: no {path} in {START_TIMEOUT_S:g} s: {self.tail()}")
            time.sleep(0.05)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)

    def ready(self) -> httpx.Response:
        return httpx.get(f"{self.base}/ready", timeout=5)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, no lock released by the process itself."""
        assert self.proc is not None and self.proc.poll() is None, f"{self.role} not running"
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def tail(self, chars: int = 3000) -> str:
        return "".join(p.read_text(errors="replace") for p in self.logs if p.exists())[-chars:]

    def log_lines(self) -> list[dict[str, Any]]:
        """The JSON lines of every run (MASTERY_LOG_FORMAT=json); a line that
        is not one JSON object fails the test."""
        lines = []
        for path in self.logs:
            for raw in path.read_text(errors="replace").splitlines():
                if raw.strip():
                    parsed = json.loads(raw)
                    assert isinstance(parsed, dict), raw
                    lines.append(parsed)
        return lines


def wait_until(what: str, check: Any, timeout: float = 60.0, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        time.sleep(every)
