"""The relay's settings and commands: refusals in one line, `mastery
relay-reset`, and JSON log lines."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from infra.logs import JsonLines
from infra.relay_log import published_of
from infra.settings import load_settings
from services import cli
from services.app import create_app
from tests.conftest import BOOT
from tests.services import fresh_postgres_database


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("MASTERY_DATABASE_URL", "MASTERY_KAFKA_BOOTSTRAP", "MASTERY_DATA_DIR", "MASTERY_LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _one_line_refusal(args: list[str]) -> str:
    done = CliRunner().invoke(cli.app, args)
    assert done.exit_code == 2, done.output
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("mastery: "), done.stderr
    return done.stderr


def test_kafka_with_the_embedded_store_is_refused_in_one_line(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("MASTERY_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    for role in ("all", "relay", "ingest"):
        said = _one_line_refusal(["serve", "--role", role, "--data-dir", str(tmp_path / "d")])
        assert "MASTERY_KAFKA_BOOTSTRAP needs MASTERY_DATABASE_URL" in said
    assert not (tmp_path / "d").exists()


def test_the_relay_role_needs_kafka(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    said = _one_line_refusal(["serve", "--role", "relay", "--data-dir", str(tmp_path)])
    assert "MASTERY_KAFKA_BOOTSTRAP" in said


def test_a_malformed_bootstrap_or_log_format_is_refused(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("MASTERY_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    clean_env.setenv("MASTERY_KAFKA_BOOTSTRAP", "kafka")
    assert "host:port" in _one_line_refusal(["serve", "--role", "relay", "--data-dir", str(tmp_path)])
    clean_env.delenv("MASTERY_KAFKA_BOOTSTRAP")
    clean_env.setenv("MASTERY_LOG_FORMAT", "xml")
    assert "MASTERY_LOG_FORMAT" in _one_line_refusal(["serve", "--data-dir", str(tmp_path)])


def test_relay_reset_needs_postgres(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert "MASTERY_DATABASE_URL" in _one_line_refusal(["relay-reset"])


@pytest.mark.postgres
def test_relay_reset_sets_the_position_a_relay_publishes_after(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with fresh_postgres_database() as url:
        settings = load_settings(data_dir=tmp_path, bootstrap_token=BOOT, database_url=url)
        with TestClient(create_app(settings, "ingest")):
            pass  # creates the event store, as a first start does
        clean_env.setenv("MASTERY_DATABASE_URL", url)
        clean_env.setenv("MASTERY_KAFKA_TOPIC", "reset-me")
        done = CliRunner().invoke(cli.app, ["relay-reset", "--from", "7"])
        assert done.exit_code == 0, done.output
        assert "from position 7 again (it had published nothing)" in done.stdout
        first = published_of(url, "reset-me")
        assert first is not None and first.position == 6
        done = CliRunner().invoke(cli.app, ["relay-reset"])
        assert done.exit_code == 0 and "it had published up to position 6" in done.stdout, done.output
        again = published_of(url, "reset-me")
        assert again is not None and again.position == 0 and again.epoch == first.epoch + 1
        assert published_of(url, "another-topic") is None


def test_json_log_lines_are_one_object_each_with_the_traceback_inside() -> None:
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        record = logging.LogRecord(
            "services.relay", logging.ERROR, __file__, 1, "failed %s", ("x",), sys.exc_info()
        )
    line = JsonLines("relay").format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "failed x" and parsed["level"] == "ERROR" and parsed["role"] == "relay"
    assert parsed["logger"] == "services.relay" and "ValueError: bad" in parsed["exception"]
    assert parsed["time"].endswith("+00:00")
