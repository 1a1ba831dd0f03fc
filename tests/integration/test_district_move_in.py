"""Issue 13, "Done means": README's "Moving a district in", command by command,
into a store that does not exist yet, on both stores. A OneRoster zip and a
CASE package become a working store (a teacher's token scoped to a class
just imported, before any service has run; the teacher posts an attempt),
and the exports load into DuckDB with their types."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from infra.settings import load_settings
from services import cli
from services.app import create_app
from tests.helpers import attempt
from tests.integration.oneroster_support import BULK, zipped
from tests.services import fresh_postgres_database

CASE_PACKAGE = Path(__file__).parents[1] / "fixtures" / "case" / "lincoln-math.json"
RULE = '{"threshold": {"kind": "correct_of", "min_correct": 4, "of": 5}}'


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """MASTERY_DATA_DIR (and MASTERY_DATABASE_URL) naming a store nobody made yet."""
    monkeypatch.setenv("MASTERY_DATA_DIR", str(tmp_path / "store"))
    monkeypatch.delenv("MASTERY_DATABASE_URL", raising=False)
    with contextlib.ExitStack() as stack:
        if request.param == "postgres":
            monkeypatch.setenv("MASTERY_DATABASE_URL", stack.enter_context(fresh_postgres_database()))
        yield tmp_path


def mastery(*args: str | Path) -> Result:
    done = CliRunner().invoke(cli.app, [str(a) for a in args])
    assert done.exit_code == 0, (args, done.output)
    return done


def test_a_district_moves_in_with_the_readme_alone(fresh_store: Path) -> None:
    district = fresh_store / "district.zip"
    district.write_bytes(zipped(BULK))
    imported = mastery("import", "oneroster", district)
    assert "projecting" in imported.stderr  # the read models show it when the command returns
    assert "imported 9 objectives" in mastery("import", "case", CASE_PACKAGE, "--rule", RULE).stdout
    admin = mastery("token", "create", "--role", "admin", "--name", "District admin").stdout.split()[-1]
    teacher = mastery(
        "token", "create", "--role", "teacher", "--scope", "class:cls-math7-p1", "--name", "Ms Rivera"
    ).stdout.split()[-1]

    with TestClient(create_app(load_settings())) as c:  # `mastery serve`, in process
        as_admin = {"Authorization": f"Bearer {admin}"}
        classes = c.get("/v1/classes", headers=as_admin).json()["classes"]
        assert {k["class_id"]: k["course"]["code"] for k in classes} == {
            "cls-math7-p1": "MATH7",
            "cls-math7-p2": "MATH7",
            "cls-sci7-p3": "SCI7",
            "cls-read3-hr": "READ3",
        }
        event = attempt("stu-ana", objective="ALG1.U1.1", correct=5, total=5)
        r = c.post("/v1/events", json={"events": [event]}, headers={"Authorization": f"Bearer {teacher}"})
        assert r.status_code == 200, r.text

    for kind in ("roster", "events", "mastery"):
        mastery("export", "--kind", kind, "--format", "parquet", "--out", fresh_store / f"{kind}.parquet")
    con = duckdb.connect()
    rows = con.sql(
        f"SELECT student_id, grade, class_ids, class_course_ids FROM '{fresh_store / 'roster.parquet'}' "
        "ORDER BY student_id"
    ).fetchall()
    assert rows[0] == ("stu-ana", "7", ["cls-math7-p1", "cls-sci7-p3"], ["crs-math7", "crs-sci7"])
    assert len(rows) == 5
    described = con.sql(f"DESCRIBE SELECT * FROM '{fresh_store / 'events.parquet'}'").fetchall()
    types = {row[0]: row[1] for row in described}
    assert (types["occurred_at"], types["correct"], types["score"], types["class_ids"]) == (
        "TIMESTAMP WITH TIME ZONE",
        "BIGINT",
        "DOUBLE",
        "VARCHAR[]",
    )
    mastered = con.sql(
        f"SELECT student_id, objective_id, status_after, score FROM '{fresh_store / 'mastery.parquet'}'"
    ).fetchall()
    assert mastered == [("stu-ana", "ALG1.U1.1", "mastered", 1.0)]  # 5 of 5 under 4 of 5
