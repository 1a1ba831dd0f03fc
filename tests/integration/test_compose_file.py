"""docker-compose.yml, checked without Docker (none runs here): the services
CONTRACT.md §5 names, what each waits for, its health check, and that every
MASTERY_ variable it sets is one the settings object reads and points at the
service that provides it."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from infra.settings import ROLES, Settings

ROOT = Path(__file__).resolve().parents[2]
ROLE_SERVICES = {"ingest", "relay", "projections", "query"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def test_the_services_of_the_contract(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == {"postgres", "kafka"} | ROLE_SERVICES
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["kafka"]["image"].startswith("apache/kafka:")  # the official image


def test_kafka_runs_kraft_with_one_broker(services: dict[str, dict[str, Any]]) -> None:
    env = services["kafka"]["environment"]
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"
    assert "ZOOKEEPER" not in " ".join(env)
    assert services["kafka"].get("deploy", {}).get("replicas", 1) == 1
    # Topics come from the relay with the partitions it asks for, never auto-created with 1.
    assert str(env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"]).lower() == "false"


def test_each_role_runs_its_own_process(services: dict[str, dict[str, Any]]) -> None:
    for name in ROLE_SERVICES:
        svc = services[name]
        command = svc["command"] if isinstance(svc["command"], list) else shlex.split(svc["command"])
        assert command[:3] == ["serve", "--role", name], name
        assert name in ROLES
        assert svc["build"] == "." and (ROOT / "Dockerfile").is_file()
    assert services["projections"]["deploy"]["replicas"] == 2
    for name in ROLE_SERVICES - {"projections"}:
        assert services[name].get("deploy", {}).get("replicas", 1) == 1, name
    assert {"ingest", "query"} <= {n for n, s in services.items() if s.get("ports")}


def test_every_service_has_a_health_check_and_waits_for_what_it_needs(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, svc in services.items():
        assert svc.get("healthcheck", {}).get("test"), f"{name} has no health check"
        for needed, how in (svc.get("depends_on") or {}).items():
            assert needed in services, f"{name} depends on unknown {needed}"
            assert how == {"condition": "service_healthy"}, (name, needed)
    for name in ROLE_SERVICES:
        needs = set(services[name]["depends_on"])
        assert "postgres" in needs, name
        if name in ("relay", "projections"):
            assert "kafka" in needs, name
        probe = " ".join(services[name]["healthcheck"]["test"])
        assert "/ready" in probe and ":8000" in probe and "--port" in services[name]["command"]


def test_the_variables_are_the_settings_and_point_at_the_services(
    services: dict[str, dict[str, Any]],
) -> None:
    readable = {f"MASTERY_{name.upper()}" for name in Settings.model_fields}
    pg = services["postgres"]["environment"]
    kafka = services["kafka"]["environment"]
    for name in ROLE_SERVICES:
        env = services[name]["environment"]
        mastery = {k for k in env if k.startswith("MASTERY_")}
        assert mastery == set(env), f"{name} sets variables the service does not read: {set(env) - mastery}"
        assert mastery <= readable, f"{name}: {mastery - readable} are not settings"
        db = urlsplit(env["MASTERY_DATABASE_URL"])
        assert (db.hostname, db.port, db.username, db.password, db.path) == (
            "postgres",
            5432,
            pg["POSTGRES_USER"],
            pg["POSTGRES_PASSWORD"],
            f"/{pg['POSTGRES_DB']}",
        )
        advertised = kafka["KAFKA_ADVERTISED_LISTENERS"].split("://", 1)[1]
        assert env["MASTERY_KAFKA_BOOTSTRAP"] == advertised
        assert env["MASTERY_BOOTSTRAP_TOKEN"].startswith("${MASTERY_BOOTSTRAP_TOKEN:?")  # never a default
        assert env["MASTERY_LOG_FORMAT"] in ("json", "text")
        Settings.model_validate(  # what the role would read: accepted
            {k.removeprefix("MASTERY_").lower(): v for k, v in env.items() if k != "MASTERY_BOOTSTRAP_TOKEN"}
        )
