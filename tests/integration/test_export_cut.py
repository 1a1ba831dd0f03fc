"""An export's roster columns come from the read models, its learning rows from
the log cut at its head: the read models must have reached the cut first
(docs/exports.md, "Where an export cuts"). Over HTTP the export waits for
them (503 when they do not come); the CLI brings them up itself. On each
backend, with no projection runner started, so the read models stay behind."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import closing

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from infra.settings import Settings
from services import cli
from services.app import create_app
from services.bootstrap import Ledger, build_ledger
from services.demo.district import District, batches
from services.demo.load import load_roster, write_batches
from services.export import api
from tests.conftest import AUTH

# The log-tailing runner driven by hand, and the CLI's own catch-up: where the
# distributed deployment has Kafka workers instead (tests/kafka hold theirs).
pytestmark = pytest.mark.stores_only("drives the log-tailing projection runner by hand")

DISTRICT = District(11, 20, heavy_events=0)


@pytest.fixture
def unprojected(settings: Settings) -> Iterator[Ledger]:
    """A district written to the log, not one event of it applied to the read models."""
    with closing(build_ledger(settings)) as ledger:
        load_roster(ledger, DISTRICT)
        write_batches(ledger, batches(DISTRICT.events(300), 100))
        assert ledger.runner.position() == 0
        yield ledger


def test_an_export_waits_for_the_read_models_and_says_when_they_do_not_come(
    unprojected: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api, "MIN_POSITION_WAIT", 0.3)
    head = unprojected.store.head_position()
    # Role query runs no projections: nothing will bring the read models up.
    with TestClient(create_app(unprojected.settings, "query", unprojected)) as c:
        c.headers.update(AUTH)
        r = c.get("/v1/export", params={"kind": "events"})
        assert r.status_code == 503, r.text
        assert "have not reached the log's head" in r.json()["detail"] and r.headers["Retry-After"]
        unprojected.runner.catch_up()  # what a projections process does meanwhile
        r = c.get("/v1/export", params={"kind": "events"})
        assert r.status_code == 200 and r.headers["X-Export-Position"] == str(head)
    rows = [json.loads(line) for line in r.content.splitlines()]
    assert len(rows) >= 300 and all(row["school_id"] and row["grade"] and row["class_ids"] for row in rows)


def test_the_cli_brings_the_read_models_to_the_cut_itself(
    unprojected: Ledger, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MASTERY_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("MASTERY_DATABASE_URL", settings.database_url)
    result = CliRunner().invoke(cli.app, ["export", "--kind", "roster"])
    assert result.exit_code == 0, result.output
    assert "read models brought from position 0 to the log's head" in result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(r["student_id"] for r in rows) == sorted(DISTRICT.student_ids)
    assert unprojected.runner.position() == unprojected.store.head_position()
    again = CliRunner().invoke(cli.app, ["export", "--kind", "roster"])
    assert again.exit_code == 0 and "brought" not in again.stderr and again.stdout == result.stdout
