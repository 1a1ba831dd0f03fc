"""The one settings object: every environment variable of CONTRACT.md §1 is read here."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
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
    # `json`: one JSON object a log line (CONTRACT.md §1); `text` (or unset): plain lines.
    log_format: Literal["text", "json"] = "text"
    # Not in the contract's table: the Kafka topic the relay publishes the log
    # to and the workers consume, the partition count the relay creates it
    # with when it does not exist (at most this many workers share the work),
    # events a relay batch publishes before recording how far it got, and
    # the least seconds between the relay's watermarks to every partition
    # while events flow (docs/kafka.md).
    kafka_topic: str = Field(default="mastery.events", pattern=r"^[A-Za-z0-9._-]{1,249}$")
    kafka_partitions: int = Field(default=12, ge=1, le=1000)
    relay_batch_size: int = Field(default=1000, ge=1)
    relay_watermark_seconds: float = Field(default=0.2, gt=0)
    # Not in the contract's table: the consumer group of the projection workers.
    kafka_group: str = Field(default="mastery.projections", min_length=1, max_length=249)

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

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format(cls, v: object) -> object:
        return "text" if v in (None, "", "plain") else v

    @field_validator("kafka_bootstrap")
    @classmethod
    def _bootstrap(cls, v: str | None) -> str | None:
        if v is None or v.strip() == "":
            return None
        for address in v.split(","):
            host, _, port = address.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"MASTERY_KAFKA_BOOTSTRAP must be host:port[,host:port...], got {address!r}")
        return ",".join(a.strip() for a in v.split(","))

    @model_validator(mode="after")
    def _kafka_needs_postgres(self) -> Settings:
        if self.kafka_bootstrap and self.database_url is None:
            raise ValueError(
                "MASTERY_KAFKA_BOOTSTRAP needs MASTERY_DATABASE_URL: the relay publishes the PostgreSQL "
                "event log, and the embedded store has none to publish"
            )
        return self

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
            if not first["loc"]:  # a check of several settings at once names them itself
                raise ConfigError(msg) from None
            raise ConfigError(msg if msg.startswith(field) else f"{field}: {msg}") from None
        raise ConfigError(str(e)) from None
