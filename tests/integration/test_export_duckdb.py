"""docs/exports.md's DuckDB analysis, run as written against real exports
(issue 13: "the exports load into DuckDB with typed columns"). On each backend."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient

from tests.helpers import ledger_of
from tests.integration import export_world

DOC = Path(__file__).resolve().parents[2] / "docs" / "exports.md"


def doc_query() -> list[str]:
    """The statements of the SQL block under the doc's `<!-- duckdb-query -->` marker."""
    found = re.search(r"<!-- duckdb-query -->\s*```sql\n(.*?)```", DOC.read_text(), re.S)
    assert found, "docs/exports.md lost its DuckDB query"
    return [s for s in found.group(1).split(";") if s.strip()]


def test_the_docs_longitudinal_query_runs_on_an_analysts_exports(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export_world.build(client)
    token = ledger_of(client).tokens.create("analyst", [], "data team")
    for kind in ("mastery", "roster"):
        r = client.get(
            "/v1/export",
            params={"kind": kind, "format": "parquet"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 200, r.text
        (tmp_path / f"{kind}.parquet").write_bytes(r.content)
    monkeypatch.chdir(tmp_path)  # the doc reads the files from where it runs
    con = duckdb.connect()
    try:
        *setup, query = doc_query()
        for statement in setup:
            con.execute(statement)
        rows = con.execute(query).fetchall()
        described = con.execute("DESCRIBE SELECT * FROM read_parquet('mastery.parquet')").fetchall()
    finally:
        con.close()
    types = {column[0]: column[1] for column in described}
    # s1 (grade 7) mastered o1 and o2 in the week of 8 September 2025 and o3 on
    # Sunday 1 February 2026 (the week of 26 January in New York); s3 (grade 9)
    # o1 in the week of 9 March 2026. Grade 7 has two students (s4 has no
    # events), grade 9 one; s2 (grade 8) mastered nothing.
    assert rows == [
        ("7", dt.date(2025, 9, 8), 2, 2, 1.0),
        ("7", dt.date(2026, 1, 26), 1, 2, 0.5),
        ("9", dt.date(2026, 3, 9), 1, 1, 1.0),
    ]
    assert types["occurred_at"] == "TIMESTAMP WITH TIME ZONE"
    assert (types["class_ids"], types["score"], types["correct"]) == ("VARCHAR[]", "DOUBLE", "BIGINT")
