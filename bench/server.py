"""A real `mastery serve` process (uvicorn) for the HTTP measurements."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

import httpx

from bench.ports import free_port
from infra.settings import Settings


@contextlib.contextmanager
def serve(
    settings: Settings,
    token: str,
    role: str = "all",
    workers: int = 1,
    timeout: float = 60.0,
    env_more: dict[str, str] | None = None,
) -> Iterator[str]:
    """Start `mastery serve --role ROLE --workers N` on a free port; yield its base URL.
    `env_more`: further MASTERY_* settings (the Kafka ones, for bench/kafka_run.py)."""
    port = free_port()
    env = {
        **os.environ,
        "MASTERY_DATA_DIR": str(settings.data_dir),
        "MASTERY_BOOTSTRAP_TOKEN": token,
    }
    env.pop("MASTERY_DATABASE_URL", None)
    if settings.database_url:
        env["MASTERY_DATABASE_URL"] = settings.database_url
    env.update(env_more or {})
    cmd = [sys.executable, "-c", "from services.cli import main; main()", "serve", "--port", str(port)]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [*cmd, "--role", role, "--workers", str(workers)], env=env, stdout=log, stderr=log
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"mastery serve exited: {log.read().decode(errors='replace')[-2000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"mastery serve did not answer within {timeout:g} s")
                time.sleep(0.1)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
