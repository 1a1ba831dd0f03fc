"""A OneRoster bundle with errors is refused whole, with every problem listed
(file, line, column, why) and nothing imported (issue 13 item 1): in
process, from the CLI and over HTTP; the manifest and headers are checked."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from services.bootstrap import Ledger
from services.cli import app
from services.imports.oneroster import ImportRefused
from tests.helpers import use_store
from tests.integration.oneroster_support import (
    BROKEN,
    BULK,
    ZIP,
    broken_bundle,
    counts,
    rewrite_in,
    roster,
    run,
    zipped,
)


def test_a_broken_bundle_is_refused_whole_with_every_problem(ledger: Ledger, tmp_path: Path) -> None:
    head = ledger.store.head_position()
    with pytest.raises(ImportRefused) as refused:
        run(ledger, broken_bundle(tmp_path))
    assert [str(p) for p in refused.value.problems] == BROKEN
    assert ledger.store.head_position() == head  # nothing stored
    assert roster(ledger) == {"schools": {}, "students": {}, "classes": {}}


def test_the_manifest_and_headers_are_checked(ledger: Ledger, tmp_path: Path) -> None:
    folder = tmp_path / "b"
    shutil.copytree(BULK, folder)
    rewrite_in(folder / "manifest.csv", "oneroster.version,1.2", "oneroster.version,1.1")
    rewrite_in(folder / "manifest.csv", "file.courses,bulk", "file.courses,full")
    (folder / "academicSessions.csv").unlink()
    rewrite_in(
        folder / "users.csv",
        "sourcedId,status,dateLastModified,enabledUser,username",
        "sourcedId,status,dateLastModified,enabledUser,role",
    )
    rewrite_in(folder / "orgs.csv", ",identifier,", ",metadata.district.code,")  # an extension column is fine
    with pytest.raises(ImportRefused) as refused:
        run(ledger, folder)
    assert [str(p) for p in refused.value.problems] == [
        "manifest.csv, column oneroster.version: must be 1.2 (this import reads 1.2), got '1.1'",
        "manifest.csv, column file.courses: must be one of bulk, delta, absent, got 'full'",
        "manifest.csv, column file.academicSessions: says bulk, but academicSessions.csv is missing",
        "manifest.csv, column file.courses: says absent, but courses.csv is there",
        "users.csv, line 1, column role: not a column of the OneRoster 1.2 users.csv",
        "users.csv, line 1, column username: a required column is missing",
    ]  # fmt: skip


def test_cli_imports_a_zip_and_refuses_a_broken_folder(
    ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_store(monkeypatch, ledger)
    refused = CliRunner().invoke(app, ["import", "oneroster", str(broken_bundle(tmp_path))])
    assert refused.exit_code == 2
    lines = refused.stderr.strip().splitlines()
    assert lines[-1] == "mastery: 12 problem(s) in the OneRoster files; nothing was imported"
    assert all(p in lines for p in BROKEN)
    archive = tmp_path / "district.zip"
    archive.write_bytes(zipped(BULK))
    done = CliRunner().invoke(app, ["import", "oneroster", str(archive), "--json"])
    assert done.exit_code == 0, done.output
    assert '"created": 5' in done.stdout and "store:" in done.stderr


def test_http_import_answers_the_summary_or_every_problem(client: TestClient, tmp_path: Path) -> None:
    r = client.post("/v1/imports/oneroster", content=zipped(broken_bundle(tmp_path)), headers=ZIP)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    errors = r.json()["errors"]
    assert errors[1] == {"loc": ["body", "orgs.csv", 5, "sourcedId"], "msg": "'sch-oak' is also on line 4"}
    assert len(errors) == len(BROKEN)
    r = client.post("/v1/imports/oneroster", content=zipped(BULK), headers=ZIP)
    assert r.status_code == 200, r.text
    assert counts(r.json())["students"] == (5, 0, 0, 0)
    assert client.post("/v1/imports/oneroster", content=zipped(BULK), headers=ZIP).json()["events"] == 0
    r = client.post("/v1/imports/oneroster", content=b"not a zip", headers=ZIP)
    assert r.status_code == 400 and "not a folder or a zip file" in r.json()["detail"]
    r = client.post("/v1/imports/oneroster", content=zipped(BULK), headers={"content-type": "text/csv"})
    assert r.status_code == 415
