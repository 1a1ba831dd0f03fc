"""The one settings object: every environment variable of CONTRACT.md §1 is read here."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROLES = ("all", "ingest", "relay", "projections", "query")


class ConfigError(Exception):
    """Bad configuration: the process stops at start with this one line."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MASTERY_", extra="ignore")

    database_url: str | None = None
    # The trust store on PostgreSQL (infra/trust.py): unset, the schema
    # mastery_trust of MASTERY_DATABASE_URL's database.
    trust_database_url: str | None = None
    kafka_bootstrap: str | None = None
    bootstrap_token: SecretStr | None = None
    data_dir: Path = Path(".mastery")
    # Not in the contract's table, but useful to tune: events per projection transaction.
    projection_batch_size: int = 2000
    # A rebuild reads far more at once: fewer, larger transactions, and each
    # (student, objective) is recomputed once per batch rather than per event.
    rebuild_batch_size: int = 20000
    # Processes for a rebuild's bulk load; 0: one per CPU on PostgreSQL, one on
    # SQLite (whose single writer would serialise them anyway).
    rebuild_workers: int = Field(default=0, ge=0)
    # Reads waiting for `?min_position=` at once, per process; one more is
    # answered 503 at once. A wait holds no thread or connection, only memory.
    max_waiting_reads: int = Field(default=64, ge=0)

    @field_validator("database_url", "trust_database_url")
    @classmethod
    def _postgres_only(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is None or v == "":
            return None
        if not v.startswith(("postgresql://", "postgres://")):
            # Name only the scheme: the rest of a URL may hold a password.
            got = f"scheme {v.split('://')[0]!r}" if "://" in v else "no scheme"
            raise ValueError(f"MASTERY_{str(info.field_name).upper()} must be a postgresql:// URL, got {got}")
        return v

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    @property
    def events_path(self) -> Path:
        return self.data_dir / "events.sqlite"

    @property
    def readmodels_path(self) -> Path:
        return self.data_dir / "readmodels.sqlite"

    def rebuild_processes(self) -> int:
        if self.rebuild_workers:
            return self.rebuild_workers
        return 1 if self.embedded else max(1, os.cpu_count() or 1)

    def describe_store(self) -> str:
        if self.database_url is None:
            return f"embedded SQLite under {self.data_dir}"
        from psycopg.conninfo import conninfo_to_dict

        info = conninfo_to_dict(self.database_url)
        return f"PostgreSQL {info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', '')}"


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning a validation failure into one clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValueError as e:
        errors = getattr(e, "errors", None)
        if callable(errors):
            first = errors()[0]
            field = "MASTERY_" + ".".join(str(p) for p in first["loc"]).upper()
            msg = str(first["msg"]).removeprefix("Value error, ")
            raise ConfigError(msg if msg.startswith(field) else f"{field}: {msg}") from None
        raise ConfigError(str(e)) from None
