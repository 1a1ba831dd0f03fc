"""POST /v1/imports/oneroster: a OneRoster 1.2 CSV zip, imported whole or not
at all, answered with the same summary as `mastery import oneroster`."""

from __future__ import annotations

from typing import Annotated, Protocol

import orjson
from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import Engine

from infra.eventstore import LedgerStore, LogBusy
from infra.keys import StudentKeys
from infra.tokens import Principal
from services.errors import Busy, InvalidInput, ProblemError, error
from services.http import role_in
from services.imports.oneroster import ImportRefused, RosterImporter

router = APIRouter(prefix="/v1")
Importer = Annotated[Principal, Depends(role_in("admin", "ingest"))]
ZIP_TYPES = ("application/zip", "application/x-zip-compressed")


class CountsOut(BaseModel):
    created: int
    changed: int
    unchanged: int
    removed: int


class ImportOut(BaseModel):
    schools: CountsOut
    students: CountsOut
    teachers: CountsOut
    classes: CountsOut
    enrolments: CountsOut
    ignored_users: int
    erased_students: int
    events: int
    position: int
    files: dict[str, str]


class UnsupportedMediaType(ProblemError):
    status = 415
    title = "Unsupported Media Type"


_ZIP_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
        "description": "manifest.csv and the CSV files of OneRoster 1.2, at the zip's top level",
    },
    "responses": {
        "400": {"description": "the body is not a zip archive, or the zip has no manifest.csv"},
        "415": {"description": "the body is not declared application/zip"},
        "422": {"description": "the files have problems, each listed in `errors`; nothing was imported"},
    },
}


class _CatchesUp(Protocol):
    def catch_up(self) -> int: ...


class ImportAdapters(Protocol):
    """What the import takes from the process's composition root (the Ledger
    in `app.state`; services/app.py holds it to this protocol)."""

    store: LedgerStore
    engine: Engine  # the read models, brought up to the log's head before comparing
    keys: StudentKeys

    @property
    def runner(self) -> _CatchesUp: ...


async def _importer(request: Request) -> RosterImporter:
    ledger: ImportAdapters = request.app.state.ledger
    return RosterImporter(ledger.store, ledger.engine, ledger.keys, ledger.runner.catch_up)


@router.post("/imports/oneroster", response_model=ImportOut, tags=["roster"], openapi_extra=_ZIP_BODY)
async def import_oneroster(
    request: Request, who: Importer, importer: Annotated[RosterImporter, Depends(_importer)]
) -> Response:
    """Import a district's roster (OneRoster 1.2 CSV, bulk or delta files): see docs/imports.md."""
    del who  # admitted by its role, checked before the body is read
    kind = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if kind not in ZIP_TYPES:
        raise UnsupportedMediaType(f"send the zip as application/zip, not {kind or 'no content type'}")
    body = await request.body()
    out = await run_in_threadpool(_run, importer, body)
    return Response(orjson.dumps(out), media_type="application/json")


def _run(importer: RosterImporter, body: bytes) -> dict[str, object]:
    try:
        return importer.run(body).as_json()
    except ImportRefused as e:
        if len(e.problems) == 1 and e.problems[0].file == "(bundle)":
            raise ProblemError(e.problems[0].message) from None
        errors = [error(["body", p.file, p.line or 0, p.column or ""], p.message) for p in e.problems]
        raise InvalidInput(str(e), errors) from None
    except LogBusy as e:
        raise Busy(f"the event log is busy; nothing was imported: {e}") from e
