"""A rebuild gives exactly the live read models, and reads keep answering during it."""

from __future__ import annotations

import random
import threading
from contextlib import closing
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select
from typer.testing import CliRunner

from infra.exclusive import AlreadyRunning, exclusive
from infra.settings import Settings
from services import cli
from services.bootstrap import Ledger, build_ledger
from services.demo.district import District, batches
from services.demo.load import load_roster, write_batches
from services.ingest.schemas import ObjectiveIn
from services.projections.base import Projection
from services.projections.rebuild import rebuild
from services.projections.runner import ProjectionRunner
from tests.helpers import attempt, post, post_random_history, projected, read_model_rows


def test_rebuild_equals_live_and_reads_continue(client: TestClient) -> None:
    ledger: Ledger = client.app.state.ledger  # type: ignore[attr-defined]
    position = post_random_history(client, random.Random(42))
    assert projected(ledger, position)
    before = read_model_rows(ledger)
    assert before["rm_mastery"], "the district produced mastery rows"

    failures: list[str] = []
    stop = threading.Event()

    def read_while_rebuilding() -> None:
        while not stop.is_set():
            r = client.get("/v1/students/s3/mastery")
            if r.status_code != 200 or not r.json()["objectives"]:
                failures.append(f"{r.status_code} {r.text[:200]}")

    reader = threading.Thread(target=read_while_rebuilding)
    reader.start()
    try:
        report = rebuild(ledger)
    finally:
        stop.set()
        reader.join()
    assert failures == []
    assert report.events >= position
    assert read_model_rows(ledger) == before

    # The live runner keeps working on the swapped-in tables.
    out = post(client, attempt("s3", "o1", correct=10, at="2026-11-01T09:00:00Z"))
    r = client.get("/v1/students/s3/mastery", params={"min_position": out["position"]})
    row = next(o for o in r.json()["objectives"] if o["objective_id"] == "o1")
    assert row["status"] == "mastered"


def test_rebuild_of_one_projection_leaves_the_others(ledger: Ledger) -> None:
    report = rebuild(ledger, ["catalog"])
    assert report.projections == ("catalog",)


def _tables(ledger: Ledger, projections: list[Projection]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the projections' tables, keyed by the live table's name."""
    out = {}
    with ledger.engine.connect() as conn:
        for p, live in zip(projections, ledger.runner.projections, strict=True):
            for t, name in zip(p.tables, (lt.name for lt in live.tables), strict=True):
                rows = conn.execute(select(t).order_by(*t.primary_key.columns)).fetchall()
                out[name] = [tuple(r) for r in rows]
    return out


@pytest.mark.parametrize("workers", [1, 2])
def test_rebuild_of_a_generated_district_equals_log_order_processing(
    settings: Settings, workers: int
) -> None:
    """A few thousand events of the seeded district (attempts, retakes, reflections,
    overrides, benchmarks, goals, voids, late arrivals), rule changes in the past
    and in the future, small batches and chunks so that their edges fall everywhere,
    and events written while the rebuild runs, the bulk load in one process or
    two: the rebuilt tables equal, row for row, the same projections run over
    the log in log order."""
    small = settings.model_copy(update={"projection_batch_size": 173, "rebuild_batch_size": 400})
    with closing(build_ledger(small)) as ledger:
        district = District(seed=11, students=60, heavy_events=300)
        load_roster(ledger, district)
        source = batches(district.events(3_000, tail=600), 250)
        write_batches(ledger, (next(source) for _ in range(6)))
        bodies = dict(district.objective_bodies())
        scored = [oid for oid, b in bodies.items() if b["rule"]["threshold"]["kind"] == "correct_of"]
        for i, oid in enumerate(scored[j] for j in (0, 1, 2, 5, 6, 7)):
            # Stricter correct-of rules: three already in force, three coming into force later.
            rule = {**bodies[oid]["rule"], "threshold": {"kind": "correct_of", "min_correct": 10, "of": 10}}
            when = "2025-01-15T00:00:00Z" if i < 3 else "2099-01-01T00:00:00Z"
            body = {**bodies[oid], "rule": rule, "effective_from": when}
            ledger.roster.put_objective(oid, ObjectiveIn.model_validate(body))
        write_batches(ledger, (next(source) for _ in range(6)))
        ledger.runner.catch_up()
        kinds = {row[0] for row in _rows(ledger, "SELECT DISTINCT record_type FROM rm_learning_records")}
        assert kinds >= {"attempt", "retake", "reflection", "override", "benchmark", "goal", "void"}, kinds
        assert _rows(ledger, "SELECT COUNT(*) FROM rm_contradictions")[0][0] > 0
        assert _rows(ledger, "SELECT COUNT(*) FROM rm_rule_clock")[0][0] == 3

        written: list[int] = []

        def write_during(done: int, head: int) -> None:
            # New events land after the rebuild read its head: the catch-up applies them.
            if len(written) < 2:
                written.append(write_batches(ledger, [next(source)])[0])

        report = rebuild(ledger, progress=write_during, workers=workers)
        assert written == [250, 250]
        # The rebuilt tables come with planner statistics (a server may run no autovacuum).
        analyzed = (
            "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'rm_learning_records'"
            if ledger.engine.dialect.name == "postgresql"
            else "SELECT COUNT(*) > 0 FROM sqlite_stat1 WHERE tbl = 'rm_learning_records'"
        )
        assert bool(_rows(ledger, analyzed)[0][0])
        ledger.runner.catch_up()
        rebuilt = _tables(ledger, ledger.runner.projections)

        reference = [p.shadow("_ref") for p in ledger.runner.projections]
        for p in reference:
            for t in p.tables:
                t.create(ledger.engine)
        ProjectionRunner(ledger.store, ledger.engine, reference, 173).catch_up()
        expected = _tables(ledger, reference)
        assert report.events >= 3_000
        assert expected["rm_mastery"] and expected["rm_contradictions"] and expected["rm_students"]
        for name, rows in expected.items():
            assert rebuilt[name] == rows, name


def _rows(ledger: Ledger, sql: str) -> list[tuple[Any, ...]]:
    with ledger.engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(sql)]


def test_an_interrupted_rebuild_leaves_nothing_behind_the_next_one(client: TestClient) -> None:
    ledger: Ledger = client.app.state.ledger  # type: ignore[attr-defined]
    position = post_random_history(client, random.Random(7))
    assert projected(ledger, position)
    before = read_model_rows(ledger)

    def crash(done: int, head: int) -> None:
        raise KeyboardInterrupt  # the operator's ^C, part-way

    with pytest.raises(KeyboardInterrupt):
        rebuild(ledger, progress=crash)
    names = set(inspect(ledger.engine).get_table_names())
    assert any("__r" in n for n in names), "the interrupted rebuild left its fresh tables"
    assert read_model_rows(ledger) == before, "serving tables untouched"

    rebuild(ledger)
    names = set(inspect(ledger.engine).get_table_names())
    assert not any("__r" in n for n in names), sorted(names)
    with ledger.engine.connect() as conn:
        tracked = {r[0] for r in conn.exec_driver_sql("SELECT projection FROM projection_positions")}
    assert tracked == {"catalog", "mastery"}
    assert read_model_rows(ledger) == before


def test_a_second_rebuild_beside_a_running_one_is_refused_and_harms_nothing(client: TestClient) -> None:
    ledger: Ledger = client.app.state.ledger  # type: ignore[attr-defined]
    position = post_random_history(client, random.Random(11))
    assert projected(ledger, position)
    before = read_model_rows(ledger)
    refusals: list[str] = []

    def second_operator(done: int, head: int) -> None:
        # Mid-load: a second rebuild would drop the first's fresh tables.
        if not refusals:
            with pytest.raises(AlreadyRunning) as refused:
                rebuild(ledger)
            refusals.append(str(refused.value))

    report = rebuild(ledger, progress=second_operator)
    assert refusals and refusals[0].startswith("another rebuild is running on "), refusals
    assert report.events >= position
    assert read_model_rows(ledger) == before
    rebuild(ledger)  # the lock went with the first rebuild
    assert read_model_rows(ledger) == before


def test_the_cli_refuses_a_rebuild_while_one_runs_in_one_line(
    ledger: Ledger, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MASTERY_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("MASTERY_DATABASE_URL", settings.database_url)
    with exclusive(settings, "rebuild"):  # as a rebuild in another process holds it
        refused = CliRunner().invoke(cli.app, ["rebuild"])
    assert refused.exit_code == 2
    # The line naming the store it opened, then the refusal, one line.
    store, refusal = refused.stderr.splitlines()
    assert store.startswith("mastery: store: ")
    assert refusal.startswith("mastery: another rebuild is running on "), refused.output
    done = CliRunner().invoke(cli.app, ["rebuild"])
    assert done.exit_code == 0, done.output
