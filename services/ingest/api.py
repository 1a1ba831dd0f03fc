"""The write endpoints: catalog, roster and learning events (CONTRACT.md §2)."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Engine

from infra.tokens import Principal
from services import requestid
from services.errors import Forbidden, InvalidInput, error
from services.http import ReadModelsDep, role_in, scoped_students
from services.ingest.commands import RecordEvents
from services.ingest.roster import RosterWriter
from services.ingest.schemas import (
    MAX_BATCH,
    ClassIn,
    EventBatchIn,
    EventBatchOut,
    EventIn,
    ObjectiveIn,
    ReflectionIn,
    SchoolIn,
    StudentIn,
    WriteOut,
)
from services.ingest.writer import EventWriter
from services.inputs import JSON_TOO_DEEP, MAX_JSON_DEPTH, IdPath, nested_deeper_than
from services.instruments import EVENTS_INGESTED
from services.jsonbody import is_json

router = APIRouter(prefix="/v1")
CatalogWriter = Annotated[Principal, Depends(role_in("admin", "ingest"))]
EventPoster = Annotated[Principal, Depends(role_in("admin", "ingest", "teacher", "student"))]


# The app's adapters (services/http.py `adapters`) hold this service's writers
# too; the routes take the one they use.
def event_writer(request: Request) -> EventWriter:
    writer: EventWriter = request.app.state.ledger.writer
    return writer


async def _writer(request: Request) -> EventWriter:
    return event_writer(request)


async def _roster(request: Request) -> RosterWriter:
    roster: RosterWriter = request.app.state.ledger.roster
    return roster


WriterDep = Annotated[EventWriter, Depends(_writer)]
RosterDep = Annotated[RosterWriter, Depends(_roster)]
_EVENT = TypeAdapter(EventIn)
_BATCH = TypeAdapter(EventBatchIn)
# The body is read and validated in the endpoint (see parse_batch), so FastAPI
# does not document it by itself; services/http.py adds EventBatchIn's schema.
_EVENTS_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EventBatchIn"}}},
    },
    # The answers every operation of its shape has are added in services/openapi.py.
    "responses": {"409": {"description": "an event_id reused with a different body"}},
}


def _status(resp: Response, out: WriteOut) -> WriteOut:
    resp.status_code = 201 if out.created else 200
    return out


@router.put("/objectives/{objective_id}", response_model=WriteOut, tags=["catalog"])
def put_objective(
    objective_id: IdPath, body: ObjectiveIn, roster: RosterDep, who: CatalogWriter, resp: Response
) -> WriteOut:
    del who  # admitted by its role
    return _status(resp, roster.put_objective(objective_id, body))


@router.put("/schools/{school_id}", response_model=WriteOut, tags=["roster"])
def put_school(
    school_id: IdPath, body: SchoolIn, roster: RosterDep, who: CatalogWriter, resp: Response
) -> WriteOut:
    del who  # admitted by its role
    return _status(resp, roster.put_school(school_id, body))


@router.put(
    "/students/{student_id}",
    response_model=WriteOut,
    tags=["roster"],
    responses={"409": {"description": "the student was erased (`mastery erase`): nothing was stored"}},
)
def put_student(
    student_id: IdPath, body: StudentIn, roster: RosterDep, who: CatalogWriter, resp: Response
) -> WriteOut:
    del who  # admitted by its role
    return _status(resp, roster.put_student(student_id, body))


@router.put("/classes/{class_id}", response_model=WriteOut, tags=["roster"])
def put_class(
    class_id: IdPath, body: ClassIn, roster: RosterDep, who: CatalogWriter, resp: Response
) -> WriteOut:
    del who  # admitted by its role
    return _status(resp, roster.put_class(class_id, body))


@router.post("/events", response_model=EventBatchOut, tags=["events"], openapi_extra=_EVENTS_BODY)
async def post_events(
    request: Request, writer: WriterDep, read_models: ReadModelsDep, who: EventPoster
) -> Response:
    # The role was checked (a dependency) before the body is read, as for every write.
    body = await request.body()
    content_type = request.headers.get("content-type")
    # The events keep the request's id (X-Request-ID, in the log too) in their metadata.
    request_id = requestid.current() or uuid.uuid4().hex
    return await run_in_threadpool(_post_events, writer, read_models, who, body, content_type, request_id)


def _post_events(
    writer: EventWriter,
    read_models: Engine,
    who: Principal,
    body: bytes,
    content_type: str | None,
    request_id: str,
) -> Response:
    batch = parse_batch(body, content_type)
    if who.role in ("teacher", "student"):
        _check_scope(read_models, who, batch)
    result = writer.write(RecordEvents(batch.events, who.recorded_by, request_id))
    EVENTS_INGESTED.labels("stored").inc(result.stored)
    EVENTS_INGESTED.labels("duplicate").inc(result.duplicates)
    out = {
        "stored": result.stored,
        "duplicates": result.duplicates,
        "position": result.position,
        "results": [{"event_id": e, "status": s} for e, s in result.results],
    }
    return Response(orjson.dumps(out), media_type="application/json")


def parse_batch(body: bytes, content_type: str | None) -> EventBatchIn:
    """Parse and validate the body in one step (pydantic's JSON parser), where
    FastAPI would parse it with the json module and then validate the objects.
    Refusals are the ones FastAPI gives, so the error handler answers alike:
    a missing body, a body that is not JSON (400), a body that is not a batch.

    A body nested deeper than 32 levels is 422 with the message every body
    gets (services/inputs.py). Only a refused body is measured: the schema
    bounds every level a valid batch can have (the free-form values at 8), so
    one that passes is never that deep, and the hot path pays nothing."""
    if not body:
        raise RequestValidationError(
            [{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}]
        )
    try:
        if is_json(content_type):
            return _BATCH.validate_json(body)
        return _BATCH.validate_python(body)  # FastAPI validates a non-JSON body as bytes
    except ValidationError as e:
        raw = e.errors(include_url=False)
        broken = [err for err in raw if err["type"] == "json_invalid"]
        if broken and "recursion limit" not in str(broken[0].get("ctx", {}).get("error")):
            raise RequestValidationError(raw) from None  # malformed: 400 (services/http.py)
        loaded = None if broken else _loaded(body)
        if broken or loaded is _TOO_DEEP or nested_deeper_than(loaded, MAX_JSON_DEPTH):
            # The parser's own limit (200 levels) or ours, 32.
            raise RequestValidationError(
                [{"type": "json_too_deep", "loc": ("body",), "msg": JSON_TOO_DEEP, "input": None}]
            ) from None
        errors = [{**err, "loc": ("body", *err["loc"])} for err in raw]
        raise RequestValidationError(errors, body=loaded) from None


_TOO_DEEP = object()


def _loaded(body: bytes) -> Any:
    """The body as the json module reads it, for the follow-up check of a refused batch."""
    try:
        return json.loads(body)
    except ValueError:
        return None
    except RecursionError:
        return _TOO_DEEP


def _check_scope(read_models: Engine, who: Principal, batch: EventBatchIn) -> None:
    if who.role == "student" and any(not isinstance(e, ReflectionIn) for e in batch.events):
        raise Forbidden("a student may post only reflections on its own attempts")
    allowed = scoped_students(read_models, who) or set()
    # Out of scope reads as unknown: a caller must not learn that a student exists.
    errors = [
        error(["body", "events", i, "student_id"], f"unknown student {e.student_id!r}")
        for i, e in enumerate(batch.events)
        if e.student_id not in allowed
    ]
    if errors:
        raise InvalidInput(f"{len(errors)} problem(s) in the batch; nothing was stored", errors)


def events_follow_up(request: Request, body: Any) -> list[dict[str, Any]]:
    """When the schema refused some events of a batch, check the others against
    the store as well, so the one 422 names every invalid event."""
    raw = body.get("events") if isinstance(body, dict) else None
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_BATCH:
        return []
    valid: list[tuple[int, EventIn]] = []
    for i, item in enumerate(raw):
        try:
            valid.append((i, _EVENT.validate_python(item)))
        except ValidationError:
            continue  # already reported by the schema
    if not valid:
        return []
    checked = event_writer(request).check([e for _, e in valid], [i for i, _ in valid])
    return checked.errors + checked.conflicts
