"""The one settings object reads the MASTERY_* variables; bad ones give one clear line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from infra.settings import ConfigError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start every test from an environment with no MASTERY_* variable."""
    for name in list(os.environ):
        if name.startswith("MASTERY_"):
            monkeypatch.delenv(name)


def config_error(**overrides: object) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(**overrides)
    message = str(info.value)
    assert message.strip() and "\n" not in message, repr(message)
    return message


def test_defaults_are_the_embedded_store_under_dot_mastery() -> None:
    s = load_settings()
    assert s.embedded and s.database_url is None
    assert s.kafka_bootstrap is None and s.bootstrap_token is None
    assert s.data_dir == Path(".mastery")
    assert s.events_path == Path(".mastery/events.sqlite")
    assert s.readmodels_path == Path(".mastery/readmodels.sqlite")
    assert s.describe_store() == "embedded SQLite under .mastery"


def test_reads_every_mastery_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MASTERY_DATABASE_URL", "postgresql://ml:pw@db.example:6543/ledger")
    monkeypatch.setenv("MASTERY_KAFKA_BOOTSTRAP", "k1:9092,k2:9092")
    monkeypatch.setenv("MASTERY_BOOTSTRAP_TOKEN", "let-me-in")
    monkeypatch.setenv("MASTERY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MASTERY_PROJECTION_BATCH_SIZE", "250")
    s = load_settings()
    assert not s.embedded
    assert s.database_url == "postgresql://ml:pw@db.example:6543/ledger"
    assert s.kafka_bootstrap == "k1:9092,k2:9092"
    assert s.bootstrap_token is not None and s.bootstrap_token.get_secret_value() == "let-me-in"
    assert s.data_dir == tmp_path and s.events_path == tmp_path / "events.sqlite"
    assert s.projection_batch_size == 250
    assert s.describe_store() == "PostgreSQL db.example:6543/ledger"


def test_secrets_stay_out_of_reprs_and_descriptions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASTERY_DATABASE_URL", "postgresql://ml:hunter2@db/ledger")
    monkeypatch.setenv("MASTERY_BOOTSTRAP_TOKEN", "let-me-in")
    s = load_settings()
    assert "let-me-in" not in repr(s)
    assert "hunter2" not in s.describe_store()


def test_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MASTERY_DATA_DIR", "/elsewhere")
    assert load_settings(data_dir=tmp_path).data_dir == tmp_path


def test_other_variables_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://not-ours")
    monkeypatch.setenv("MASTERY_UNKNOWN_THING", "x")
    assert load_settings().database_url is None


@pytest.mark.parametrize("url", ["", "postgresql://db/ledger", "postgres://db/ledger"])
def test_postgres_urls_and_empty_are_accepted(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("MASTERY_DATABASE_URL", url)
    s = load_settings()
    assert s.database_url == (url or None)
    assert s.embedded == (url == "")


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("mysql://x", "scheme 'mysql'"),
        ("sqlite:///tmp/x.db", "scheme 'sqlite'"),
        ("db.example:5432/ledger", "no scheme"),
    ],
)
def test_a_malformed_database_url_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, url: str, named: str
) -> None:
    monkeypatch.setenv("MASTERY_DATABASE_URL", url)
    message = config_error()
    assert message == f"MASTERY_DATABASE_URL must be a postgresql:// URL, got {named}"


def test_the_error_line_never_echoes_a_password(monkeypatch: pytest.MonkeyPatch) -> None:
    # A URL pasted without its scheme still carries the password.
    monkeypatch.setenv("MASTERY_DATABASE_URL", "ml:hunter2@db.example:5432/ledger")
    message = config_error()
    assert "hunter2" not in message and message.startswith("MASTERY_DATABASE_URL")


def test_a_bad_number_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASTERY_PROJECTION_BATCH_SIZE", "lots")
    assert config_error().startswith("MASTERY_PROJECTION_BATCH_SIZE: ")


def test_max_waiting_reads_is_64_unless_set_and_never_negative(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().max_waiting_reads == 64
    monkeypatch.setenv("MASTERY_MAX_WAITING_READS", "8")
    assert load_settings().max_waiting_reads == 8
    monkeypatch.setenv("MASTERY_MAX_WAITING_READS", "-1")
    assert config_error().startswith("MASTERY_MAX_WAITING_READS: ")
