"""The hostile-input corpus (issue 10): nothing a client sends can stop the store.

One table of requests: every input the issue found accepted though the
contract refuses it, every poison write, and both sides of every stated limit
of docs/input-rules.md (at the limit accepted, one past refused). A refusal
must be its 4xx, as problem+json naming the field, and store nothing (the
log's head and the event index unchanged). After the whole corpus the read
models must still advance. Then every accepted edge input goes through the
live projections and through `mastery rebuild`, which must agree row for row.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from infra.settings import Settings
from services import cli
from tests.helpers import (
    RULE_9_OF_10,
    attempt,
    ledger_of,
    new_id,
    post,
    projected,
    read_model_rows,
    seed_roster,
)

LEVELS = ["beginning", "developing", "secure"]
RUBRIC = {"threshold": {"kind": "rubric", "levels": LEVELS, "min_level": "secure"}}
PERCENT = {"threshold": {"kind": "percent", "min": 80}}
MAX_COUNT = 1_000_000
SAFE = 2**53 - 1
DEPTH_MSG = "JSON nested deeper than 32 levels"
# Printable, though odd: accents, CJK, an astral emoji, right-to-left letters,
# a combining mark, a non-breaking hyphen; an inner space.
ODD = "é中😀 שלום\u0301‑Ω"


@dataclass(frozen=True)
class Raw:
    """A body sent as these bytes: the json module would not write NaN as a
    client may, nor can a dict say "nested 1,000 deep"."""

    text: str


@dataclass(frozen=True)
class Case:
    method: str
    url: str
    body: Any = None  # a JSON value, a Raw body, or None for no body
    params: dict[str, Any] = field(default_factory=dict)
    status: int = 422
    loc: list[Any] | None = None  # the field a refusal must name
    msg: str | None = None  # what its message must say, where that is the point


def raw(value: Any, **literals: str) -> Raw:
    """`value` as JSON with each string "<name>" replaced by a literal (NaN, 1e309)."""
    text = json.dumps(value)
    for name, literal in literals.items():
        text = text.replace(json.dumps(f"<{name}>"), literal)
    return Raw(text)


def events(*evs: dict[str, Any]) -> dict[str, Any]:
    return {"events": list(evs)}


def ev(**fields: Any) -> dict[str, Any]:
    """An attempt of s1 on o1, with these fields instead."""
    return {**attempt(), **fields}


def loc(*path: Any) -> list[Any]:
    """The loc of a field of the only event of a batch."""
    return ["body", "events", 0, *path]


def reflection(**fields: Any) -> dict[str, Any]:
    return {
        "event_id": new_id(),
        "type": "reflection",
        "student_id": "s1",
        "occurred_at": "2026-09-15T09:30:00Z",
        "on_event": EARLIER,
        "text": "I mixed up the signs",
        **fields,
    }


def override(**fields: Any) -> dict[str, Any]:
    return {
        "event_id": new_id(),
        "type": "override",
        "student_id": "s1",
        "occurred_at": "2026-09-15T09:30:00Z",
        "objective_id": "o1",
        "status": "mastered",
        "reason": "conference",
        **fields,
    }


def benchmark(results: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return {
        "event_id": new_id(),
        "type": "benchmark",
        "student_id": "s1",
        "occurred_at": "2026-09-15T09:30:00Z",
        "benchmark_id": "interim-1",
        "name": "Interim 1",
        "results": results,
        **fields,
    }


def goal(**fields: Any) -> dict[str, Any]:
    return {
        "event_id": new_id(),
        "type": "goal",
        "student_id": "s1",
        "occurred_at": "2026-09-15T09:30:00Z",
        "target_mastered": 10,
        "due": "2027-06-15",
        **fields,
    }


def void(**fields: Any) -> dict[str, Any]:
    return {
        "event_id": new_id(),
        "type": "void",
        "student_id": "s1",
        "occurred_at": "2026-09-15T09:30:00Z",
        "target_event_id": EARLIER,
        "reason": "entered twice",
        **fields,
    }


def objective(**fields: Any) -> dict[str, Any]:
    return {
        "statement": "Solve one-step linear equations",
        "subject": "math",
        "course": "algebra-1",
        "unit": "u2",
        "rule": RULE_9_OF_10,
        **fields,
    }


def rule(**fields: Any) -> dict[str, Any]:
    return objective(rule=fields)


def nested(levels: int) -> Raw:
    """A batch body whose JSON is `levels` deep: the object, then arrays in `events`."""
    return Raw('{"events": ' + "[" * (levels - 1) + "]" * (levels - 1) + "}")


def deep_item(levels: int) -> dict[str, Any]:
    """An `items` entry `levels` deep (the entry itself is the first)."""
    value: Any = 1
    for _ in range(levels - 1):
        value = [value]
    return {"n": value}


def student(**fields: Any) -> dict[str, Any]:
    return {"name": "Ann Lee", "grade": "7", "school_id": "sch1", **fields}


def klass(**fields: Any) -> dict[str, Any]:
    return {"name": "7B", "school_id": "sch1", **fields}


EARLIER = "00000000-0000-4000-8000-000000000001"  # an attempt of s1 on o1, stored by the setup
MASTERY = "/v1/students/s1/mastery"
PREREQUISITES = [f"p{i:03d}" for i in range(100)]
WHEN = "2026-09-14T09:30:00-05:00"

CASES: dict[str, Case] = {
    # --- poison writes (issue 10) ------------------------------------------
    "objective sequence 10**30": Case(
        "PUT", "/v1/objectives/ox", objective(sequence=10**30), loc=["body", "sequence"]
    ),
    "objective sequence 2**31": Case(
        "PUT", "/v1/objectives/ox", objective(sequence=2**31), loc=["body", "sequence"]
    ),
    "benchmark correct 2**31": Case(
        "POST",
        "/v1/events",
        events(benchmark([{"objective_id": "o1", "correct": 2**31, "total": 2**31}])),
        loc=loc("results", 0, "correct"),
    ),
    "benchmark total 2**31": Case(
        "POST",
        "/v1/events",
        events(benchmark([{"objective_id": "o1", "correct": 1, "total": 2**31}])),
        loc=loc("results", 0, "total"),
    ),
    "U+0000 in a student name": Case(
        "PUT", "/v1/students/s9", student(name="Ann\x00Lee"), loc=["body", "name"]
    ),
    "U+0000 in a school name": Case("PUT", "/v1/schools/sch9", {"name": "Lincoln\x00"}, loc=["body", "name"]),
    "U+0000 in a benchmark name": Case(
        "POST",
        "/v1/events",
        events(benchmark([{"objective_id": "o1", "correct": 1, "total": 2}], name="I\x00")),
        loc=loc("name"),
    ),
    "U+0000 in a body id": Case("POST", "/v1/events", events(ev(student_id="s1\x00")), loc=loc("student_id")),
    "U+0000 in a path id": Case("PUT", "/v1/students/s%009", student(), loc=["path", "student_id"]),
    "U+0000 in a school_id": Case(
        "PUT", "/v1/students/s9", student(school_id="sch\x001"), loc=["body", "school_id"]
    ),
    "U+0000 in notes": Case("POST", "/v1/events", events(ev(notes="a\x00b")), loc=loc("notes")),
    "U+0000 inside items": Case(
        "POST", "/v1/events", events(ev(items=[{"answer": "x\x00"}])), loc=loc("items", 0)
    ),
    # --- 500s (issue 10): huge integers, deep JSON ---------------------------
    "integer beyond 2**64 inside items": Case(
        "POST", "/v1/events", events(ev(items=[{"n": 2**64 + 1}])), loc=loc("items", 0)
    ),
    "integer 10**40 inside an error-analysis item": Case(
        "POST",
        "/v1/events",
        events(reflection(error_analysis=[{"item": 10**40, "cause": "sign"}])),
        loc=loc("error_analysis", 0, "item"),
    ),
    "integer beyond 2**64 as a count": Case(
        "POST",
        "/v1/events",
        events(ev(score={"correct": 2**65, "total": 2**65})),
        loc=loc("score", "correct"),
    ),
    "JSON nested 1,000 deep": Case("POST", "/v1/events", nested(1000), loc=["body"], msg=DEPTH_MSG),
    "JSON nested 201 deep (past the parser's own limit)": Case(
        "POST", "/v1/events", nested(201), loc=["body"], msg=DEPTH_MSG
    ),
    "JSON nested 33 deep": Case("POST", "/v1/events", nested(33), loc=["body"], msg=DEPTH_MSG),
    "JSON nested 32 deep: refused for what it is, not its depth": Case(
        "POST", "/v1/events", nested(32), loc=["body", "events", 0]
    ),
    # --- accepted though the contract refuses it (issue 10) ------------------
    "occurred_at a number": Case("POST", "/v1/events", events(ev(occurred_at=0)), loc=loc("occurred_at")),
    "occurred_at a float": Case("POST", "/v1/events", events(ev(occurred_at=1.7e9)), loc=loc("occurred_at")),
    "occurred_at digits in a string": Case(
        "POST", "/v1/events", events(ev(occurred_at="1700000000")), loc=loc("occurred_at")
    ),
    "occurred_at without an offset": Case(
        "POST", "/v1/events", events(ev(occurred_at="2026-09-14T09:30:00")), loc=loc("occurred_at")
    ),
    "occurred_at with an offset without a colon": Case(
        "POST", "/v1/events", events(ev(occurred_at="2026-09-14T09:30:00+0530")), loc=loc("occurred_at")
    ),
    "occurred_at with an offset in seconds": Case(
        "POST", "/v1/events", events(ev(occurred_at="2026-09-14T09:30:00+05:30:15")), loc=loc("occurred_at")
    ),
    "occurred_at in 1899": Case(
        "POST", "/v1/events", events(ev(occurred_at="1899-12-31T23:59:59Z")), loc=loc("occurred_at")
    ),
    "known_at=0.5": Case("GET", MASTERY, params={"known_at": "0.5"}, loc=["query", "known_at"]),
    "as_of=0": Case("GET", MASTERY, params={"as_of": "0"}, loc=["query", "as_of"]),
    "as_of without an offset": Case(
        "GET", MASTERY, params={"as_of": "2026-09-14T09:30:00"}, loc=["query", "as_of"]
    ),
    "as_of in 2200": Case(
        "GET", "/v1/students/s1/history", params={"as_of": "2200-01-01T00:00:00Z"}, loc=["query", "as_of"]
    ),
    "effective_from a number": Case(
        "PUT", "/v1/objectives/ox", objective(effective_from=0), loc=["body", "effective_from"]
    ),
    "goal due a number": Case("POST", "/v1/events", events(goal(due=0)), loc=loc("due")),
    "goal due a time": Case("POST", "/v1/events", events(goal(due="2027-06-15T00:00:00Z")), loc=loc("due")),
    "duration NaN": Case(
        "POST", "/v1/events", raw(events(ev(duration_seconds="<x>")), x="NaN"), loc=loc("duration_seconds")
    ),
    "duration Infinity": Case(
        "POST",
        "/v1/events",
        raw(events(ev(duration_seconds="<x>")), x="Infinity"),
        loc=loc("duration_seconds"),
    ),
    "duration 1e309": Case(
        "POST", "/v1/events", raw(events(ev(duration_seconds="<x>")), x="1e309"), loc=loc("duration_seconds")
    ),
    "time factor NaN": Case(
        "POST",
        "/v1/events",
        raw(events(ev(accommodations={"extended_time_factor": "<x>"})), x="NaN"),
        loc=loc("accommodations", "extended_time_factor"),
    ),
    "time factor Infinity": Case(
        "POST",
        "/v1/events",
        raw(events(ev(accommodations={"extended_time_factor": "<x>"})), x="Infinity"),
        loc=loc("accommodations", "extended_time_factor"),
    ),
    "time factor 1e309": Case(
        "POST",
        "/v1/events",
        raw(events(ev(accommodations={"extended_time_factor": "<x>"})), x="1e309"),
        loc=loc("accommodations", "extended_time_factor"),
    ),
    "percent NaN": Case(
        "POST",
        "/v1/events",
        raw(events(ev(objective_id="pc", score={"percent": "<x>"})), x="NaN"),
        loc=loc("score", "percent"),
    ),
    "NaN inside items": Case(
        "POST", "/v1/events", raw(events(ev(items=[{"t": "<x>"}])), x="NaN"), loc=loc("items", 0)
    ),
    "-Infinity inside items": Case(
        "POST", "/v1/events", raw(events(ev(items=[{"t": "<x>"}])), x="-Infinity"), loc=loc("items", 0)
    ),
    "rule percent NaN (PUT body)": Case(
        "PUT",
        "/v1/objectives/ox",
        raw(rule(threshold={"kind": "percent", "min": "<x>"}), x="NaN"),
        loc=["body", "rule", "threshold", "percent", "min"],
    ),
    "rule bkt prior Infinity (PUT body)": Case(
        "PUT",
        "/v1/objectives/ox",
        raw(
            rule(threshold={"kind": "percent", "min": 80}, calculation={"method": "bkt", "prior": "<x>"}),
            x="Infinity",
        ),
        loc=["body", "rule", "calculation", "bkt", "prior"],
    ),
    "a 10,001-character note": Case("POST", "/v1/events", events(ev(notes="n" * 10_001)), loc=loc("notes")),
    "a 33-character form": Case("POST", "/v1/events", events(ev(form="F" * 33)), loc=loc("form")),
    "U+202E in a body id": Case(
        "POST", "/v1/events", events(ev(objective_id="o\u202e1")), loc=loc("objective_id")
    ),
    "U+202E in a path id": Case("PUT", "/v1/students/a\u202eb", student(), loc=["path", "student_id"]),
    "U+202E in a query id": Case(
        "GET", "/v1/contradictions", params={"class_id": "c\u202e1"}, loc=["query", "class_id"]
    ),
    "a zero-width space in an id": Case(
        "PUT", "/v1/schools/sch\u200b1", {"name": "Lincoln"}, loc=["path", "school_id"]
    ),
    "a no-break space in an id": Case(
        "PUT", "/v1/schools/sch\u00a01", {"name": "Lincoln"}, loc=["path", "school_id"]
    ),
    "a tab in an id": Case("PUT", "/v1/students/s9", student(grade="7\t"), loc=["body", "grade"]),
    "path id with a leading space (%20)": Case(
        "PUT", "/v1/students/%20lead", student(), loc=["path", "student_id"]
    ),
    "path id with a trailing space": Case("PUT", "/v1/students/lead ", student(), loc=["path", "student_id"]),
    "read path id with a leading space": Case(
        "GET", "/v1/students/%20s1/history", loc=["path", "student_id"]
    ),
    "body id with a trailing space (refused, not stripped)": Case(
        "POST", "/v1/events", events(ev(student_id="s1 ")), loc=loc("student_id")
    ),
    "class member id with a leading space": Case(
        "PUT", "/v1/classes/c9", klass(student_ids=[" s1"]), loc=["body", "student_ids", 0]
    ),
    "query id with a leading space": Case(
        "GET", "/v1/contradictions", params={"school_id": " sch1"}, loc=["query", "school_id"]
    ),
    "?asof= (a typo of as_of)": Case(
        "GET", MASTERY, params={"asof": "2026-09-01T00:00:00Z"}, loc=["query", "asof"]
    ),
    "?knownat= on history": Case(
        "GET", "/v1/students/s1/history", params={"knownat": "2026-09-01T00:00:00Z"}, loc=["query", "knownat"]
    ),
    "?fromat= on export": Case(
        "GET", "/v1/export", params={"kind": "events", "fromat": "csv"}, loc=["query", "fromat"]
    ),
    "unknown query parameter on a write": Case(
        "POST", "/v1/events", events(ev()), params={"dry_run": "1"}, loc=["query", "dry_run"]
    ),
    "unknown query parameter on a PUT": Case(
        "PUT", "/v1/students/s9", student(), params={"upsert": "no"}, loc=["query", "upsert"]
    ),
    "unknown query parameter on the catalog": Case(
        "GET", "/v1/objectives", params={"subject": "math"}, loc=["query", "subject"]
    ),
    "lone surrogate in a PUT body": Case(
        "PUT",
        "/v1/students/s9",
        Raw('{"name": "Ann\\ud800", "grade": "7", "school_id": "sch1"}'),
        loc=["body", "name"],
    ),
    # Which the parser of POST /v1/events refuses as JSON at all: 400.
    "lone surrogate in an event": Case(
        "POST",
        "/v1/events",
        Raw(json.dumps(events(ev(form="A"))).replace('"form": "A"', '"form": "A\\ud800"')),
        status=400,
    ),
    # --- ids: 1 to 128 printable characters --------------------------------
    "an id of 128 characters": Case("PUT", f"/v1/schools/{'i' * 128}", {"name": "Lincoln"}, status=201),
    "an id of 129 characters (path)": Case(
        "PUT", f"/v1/schools/{'i' * 129}", {"name": "Lincoln"}, loc=["path", "school_id"]
    ),
    "an id of 129 characters (body)": Case(
        "PUT", "/v1/students/s9", student(school_id="i" * 129), loc=["body", "school_id"]
    ),
    "an id of 129 characters (query)": Case(
        "GET", "/v1/contradictions", params={"class_id": "c" * 129}, loc=["query", "class_id"]
    ),
    "an empty id in a body": Case("POST", "/v1/events", events(ev(student_id="")), loc=loc("student_id")),
    "an odd but printable id": Case("PUT", f"/v1/schools/{ODD}", {"name": "Lincoln"}, status=201),
    # --- text: names 200, statement 2,000, form 32, level 64, free text 10,000
    "a name of 200 characters": Case("PUT", "/v1/schools/sch200", {"name": "N" * 200}, status=201),
    "a name of 201 characters": Case("PUT", "/v1/schools/sch201", {"name": "N" * 201}, loc=["body", "name"]),
    "a class name of 201 characters": Case(
        "PUT", "/v1/classes/c9", klass(name="N" * 201), loc=["body", "name"]
    ),
    "a benchmark name of 201 characters": Case(
        "POST",
        "/v1/events",
        events(benchmark([{"objective_id": "o1", "correct": 1, "total": 2}], name="N" * 201)),
        loc=loc("name"),
    ),
    "a blank name": Case("PUT", "/v1/schools/sch9", {"name": " \t "}, loc=["body", "name"]),
    "a statement of 2,000 characters": Case(
        "PUT", "/v1/objectives/o-stmt", objective(statement="S" * 2000), status=201
    ),
    "a statement of 2,001 characters": Case(
        "PUT", "/v1/objectives/ox", objective(statement="S" * 2001), loc=["body", "statement"]
    ),
    "a form of 32 characters": Case("POST", "/v1/events", events(ev(form="F" * 32)), status=200),
    "a rubric level of 64 characters": Case(
        "PUT",
        "/v1/objectives/o-lvl",
        rule(threshold={"kind": "rubric", "levels": ["L" * 64, "b"], "min_level": "b"}),
        status=201,
    ),
    "a rubric level of 65 characters": Case(
        "PUT",
        "/v1/objectives/ox",
        rule(threshold={"kind": "rubric", "levels": ["L" * 65, "b"], "min_level": "b"}),
        loc=["body", "rule", "threshold", "rubric", "levels", 0],
    ),
    "a score's rubric level of 65 characters": Case(
        "POST",
        "/v1/events",
        events(ev(objective_id="r1", score={"rubric_level": "L" * 65})),
        loc=loc("score", "rubric_level"),
    ),
    "a note of 10,000 characters with tabs and newlines": Case(
        "POST", "/v1/events", events(ev(notes=("a\tb\nc\r\u2028" * 2000)[:10_000])), status=200
    ),
    "a reflection of 10,000 characters": Case(
        "POST", "/v1/events", events(reflection(text="t" * 10_000)), status=200
    ),
    "a reflection of 10,001 characters": Case(
        "POST", "/v1/events", events(reflection(text="t" * 10_001)), loc=loc("text")
    ),
    "an override reason of 10,001 characters": Case(
        "POST", "/v1/events", events(override(reason="r" * 10_001)), loc=loc("reason")
    ),
    "a void reason of 10,001 characters": Case(
        "POST", "/v1/events", events(void(reason="r" * 10_001)), loc=loc("reason")
    ),
    "an error-analysis cause of 10,001 characters": Case(
        "POST",
        "/v1/events",
        events(reflection(error_analysis=[{"item": 1, "cause": "c" * 10_001}])),
        loc=loc("error_analysis", 0, "cause"),
    ),
    "a BEL in a reason": Case("POST", "/v1/events", events(override(reason="ring\x07")), loc=loc("reason")),
    "a C1 control (U+0085 inside) in a name": Case(
        "PUT", "/v1/schools/sch9", {"name": "Lin\x85coln"}, loc=["body", "name"]
    ),
    "an ESC in a statement": Case(
        "PUT", "/v1/objectives/ox", objective(statement="\x1b[31mred"), loc=["body", "statement"]
    ),
    # --- integers ------------------------------------------------------------
    "correct and total 1,000,000": Case(
        "POST", "/v1/events", events(ev(score={"correct": MAX_COUNT, "total": MAX_COUNT})), status=200
    ),
    "total 1,000,001": Case(
        "POST",
        "/v1/events",
        events(ev(score={"correct": 1, "total": MAX_COUNT + 1})),
        loc=loc("score", "total"),
    ),
    "correct -1": Case(
        "POST", "/v1/events", events(ev(score={"correct": -1, "total": 10})), loc=loc("score", "correct")
    ),
    "benchmark correct and total 1,000,000": Case(
        "POST",
        "/v1/events",
        events(benchmark([{"objective_id": "o1", "correct": MAX_COUNT, "total": MAX_COUNT}])),
        status=200,
    ),
    "benchmark total 1,000,001": Case(
        "POST",
        "/v1/events",
        events(benchmark([{"objective_id": "o1", "correct": 1, "total": MAX_COUNT + 1}])),
        loc=loc("results", 0, "total"),
    ),
    "sequence 1,000,000": Case("PUT", "/v1/objectives/o-seq", objective(sequence=MAX_COUNT), status=201),
    "sequence 1,000,001": Case(
        "PUT", "/v1/objectives/ox", objective(sequence=MAX_COUNT + 1), loc=["body", "sequence"]
    ),
    "sequence -1": Case("PUT", "/v1/objectives/ox", objective(sequence=-1), loc=["body", "sequence"]),
    "target_mastered 100,000": Case("POST", "/v1/events", events(goal(target_mastered=100_000)), status=200),
    "target_mastered 100,001": Case(
        "POST", "/v1/events", events(goal(target_mastered=100_001)), loc=loc("target_mastered")
    ),
    "target_mastered 0": Case(
        "POST", "/v1/events", events(goal(target_mastered=0)), loc=loc("target_mastered")
    ),
    "time_limit_seconds 1,000,000": Case(
        "PUT",
        "/v1/objectives/o-tl",
        objective(rule={**RULE_9_OF_10, "time_limit_seconds": MAX_COUNT}),
        status=201,
    ),
    "time_limit_seconds 1,000,001": Case(
        "PUT",
        "/v1/objectives/ox",
        objective(rule={**RULE_9_OF_10, "time_limit_seconds": MAX_COUNT + 1}),
        loc=["body", "rule", "time_limit_seconds"],
    ),
    "time_limit_seconds 2**31": Case(
        "PUT",
        "/v1/objectives/ox",
        objective(rule={**RULE_9_OF_10, "time_limit_seconds": 2**31}),
        loc=["body", "rule", "time_limit_seconds"],
    ),
    "rule 1,000,000 of 1,000,000": Case(
        "PUT",
        "/v1/objectives/o-of",
        rule(threshold={"kind": "correct_of", "min_correct": MAX_COUNT, "of": MAX_COUNT}),
        status=201,
    ),
    "rule of 1,000,001": Case(
        "PUT",
        "/v1/objectives/ox",
        rule(threshold={"kind": "correct_of", "min_correct": 1, "of": MAX_COUNT + 1}),
        loc=["body", "rule", "threshold", "correct_of", "of"],
    ),
    "rule n_times n 1,000,001": Case(
        "PUT",
        "/v1/objectives/ox",
        rule(threshold=RULE_9_OF_10["threshold"], calculation={"method": "n_times", "n": MAX_COUNT + 1}),
        loc=["body", "rule", "calculation", "n_times", "n"],
    ),
    "min_position 2**63-1 (valid; the export's log is not there yet)": Case(
        "GET", "/v1/export", params={"kind": "events", "min_position": 2**63 - 1}, status=503
    ),
    "min_position 2**63": Case("GET", MASTERY, params={"min_position": 2**63}, loc=["query", "min_position"]),
    "min_position -1": Case("GET", MASTERY, params={"min_position": -1}, loc=["query", "min_position"]),
    # --- list lengths --------------------------------------------------------
    "100 prerequisites": Case(
        "PUT", "/v1/objectives/o-pre", objective(prerequisites=PREREQUISITES), status=201
    ),
    "101 prerequisites": Case(
        "PUT",
        "/v1/objectives/ox",
        objective(prerequisites=[*PREREQUISITES, "o1"]),
        loc=["body", "prerequisites"],
    ),
    "a class of 1,000 student entries": Case(
        "PUT", "/v1/classes/c-big", klass(student_ids=["s1"] * 1000), status=201
    ),
    "a class of 1,001 student entries": Case(
        "PUT", "/v1/classes/c9", klass(student_ids=["s1"] * 1001), loc=["body", "student_ids"]
    ),
    "100 teachers": Case(
        "PUT", "/v1/classes/c-t", klass(teacher_ids=[f"t{i}" for i in range(100)]), status=201
    ),
    "101 teachers": Case(
        "PUT", "/v1/classes/c9", klass(teacher_ids=[f"t{i}" for i in range(101)]), loc=["body", "teacher_ids"]
    ),
    "1,000 benchmark results": Case(
        "POST",
        "/v1/events",
        events(benchmark([{"objective_id": "o1", "correct": 1, "total": 2}] * 1000)),
        status=200,
    ),
    "1,001 benchmark results": Case(
        "POST",
        "/v1/events",
        events(benchmark([{"objective_id": "o1", "correct": 1, "total": 2}] * 1001)),
        loc=loc("results"),
    ),
    "200 error analyses": Case(
        "POST",
        "/v1/events",
        events(reflection(error_analysis=[{"item": i, "cause": "sign"} for i in range(200)])),
        status=200,
    ),
    "201 error analyses": Case(
        "POST",
        "/v1/events",
        events(reflection(error_analysis=[{"item": i, "cause": "sign"} for i in range(201)])),
        loc=loc("error_analysis"),
    ),
    "500 items": Case("POST", "/v1/events", events(ev(items=[{"n": i} for i in range(500)])), status=200),
    "501 items": Case(
        "POST", "/v1/events", events(ev(items=[{"n": i} for i in range(501)])), loc=loc("items")
    ),
    "20 rubric levels": Case(
        "PUT",
        "/v1/objectives/o-20",
        rule(threshold={"kind": "rubric", "levels": [f"l{i}" for i in range(20)], "min_level": "l9"}),
        status=201,
    ),
    "21 rubric levels": Case(
        "PUT",
        "/v1/objectives/ox",
        rule(threshold={"kind": "rubric", "levels": [f"l{i}" for i in range(21)], "min_level": "l9"}),
        loc=["body", "rule", "threshold", "rubric", "levels"],
    ),
    # --- numbers -------------------------------------------------------------
    "percent 100": Case(
        "POST", "/v1/events", events(ev(objective_id="pc", score={"percent": 100})), status=200
    ),
    "percent 100.001": Case(
        "POST",
        "/v1/events",
        events(ev(objective_id="pc", score={"percent": 100.001})),
        loc=loc("score", "percent"),
    ),
    "duration 1,000,000": Case("POST", "/v1/events", events(ev(duration_seconds=1_000_000)), status=200),
    "duration 1,000,000.5": Case(
        "POST", "/v1/events", events(ev(duration_seconds=1_000_000.5)), loc=loc("duration_seconds")
    ),
    "duration -0.5": Case(
        "POST", "/v1/events", events(ev(duration_seconds=-0.5)), loc=loc("duration_seconds")
    ),
    "time factor 10": Case(
        "POST", "/v1/events", events(ev(accommodations={"extended_time_factor": 10})), status=200
    ),
    "time factor 10.01": Case(
        "POST",
        "/v1/events",
        events(ev(accommodations={"extended_time_factor": 10.01})),
        loc=loc("accommodations", "extended_time_factor"),
    ),
    "time factor 0.99": Case(
        "POST",
        "/v1/events",
        events(ev(accommodations={"extended_time_factor": 0.99})),
        loc=loc("accommodations", "extended_time_factor"),
    ),
    "bkt probabilities at 0 and 1": Case(
        "PUT",
        "/v1/objectives/o-bkt",
        rule(threshold={"kind": "percent", "min": 80}, calculation={"method": "bkt", "prior": 0, "learn": 1}),
        status=201,
    ),
    "bkt prior 1.01": Case(
        "PUT",
        "/v1/objectives/ox",
        rule(threshold={"kind": "percent", "min": 80}, calculation={"method": "bkt", "prior": 1.01}),
        loc=["body", "rule", "calculation", "bkt", "prior"],
    ),
    "decaying weight 0": Case(
        "PUT",
        "/v1/objectives/ox",
        rule(
            threshold={"kind": "percent", "min": 80}, calculation={"method": "decaying_average", "weight": 0}
        ),
        loc=["body", "rule", "calculation", "decaying_average", "weight"],
    ),
    # --- free-form JSON: 8 levels, integers within 2**53-1, strings as free text
    "an item 8 levels deep": Case("POST", "/v1/events", events(ev(items=[deep_item(8)])), status=200),
    "an item 9 levels deep": Case(
        "POST", "/v1/events", events(ev(items=[deep_item(9)])), loc=loc("items", 0)
    ),
    "an error-analysis item 9 levels deep": Case(
        "POST",
        "/v1/events",
        events(reflection(error_analysis=[{"item": [[[[[[[[[1]]]]]]]]], "cause": "sign"}])),
        loc=loc("error_analysis", 0, "item"),
    ),
    "integers of +-(2**53-1) in items": Case(
        "POST", "/v1/events", events(ev(items=[{"max": SAFE, "min": -SAFE, "f": 1.5e308}])), status=200
    ),
    "integer 2**53 in items": Case(
        "POST", "/v1/events", events(ev(items=[{"n": SAFE + 1}])), loc=loc("items", 0)
    ),
    "integer -2**53 in items": Case(
        "POST", "/v1/events", events(ev(items=[{"n": -SAFE - 1}])), loc=loc("items", 0)
    ),
    "a string of 10,001 characters in items": Case(
        "POST", "/v1/events", events(ev(items=[{"s": "s" * 10_001}])), loc=loc("items", 0)
    ),
    "an item that is not an object": Case(
        "POST", "/v1/events", events(ev(items=[[1, 2]])), loc=loc("items", 0)
    ),
    # --- times: RFC 3339 with an offset, years 1900-2199 -----------------------
    "the earliest time": Case(
        "POST", "/v1/events", events(ev(occurred_at="1900-01-01T00:00:00Z")), status=200
    ),
    "an offset of +23:59 and a fraction": Case(
        "POST", "/v1/events", events(ev(occurred_at="2026-09-14T09:30:00.123456+23:59")), status=200
    ),
    "as_of at the latest time": Case(
        "GET", MASTERY, params={"as_of": "2199-12-31T23:59:59+00:00"}, status=200
    ),
    "known_at at the earliest time": Case(
        "GET", MASTERY, params={"known_at": "1900-01-01T00:00:00Z"}, status=200
    ),
    "effective_from at the latest time": Case(
        "PUT", "/v1/objectives/o-late", objective(effective_from="2199-12-31T23:59:59Z"), status=201
    ),
    "effective_from in 2200": Case(
        "PUT",
        "/v1/objectives/ox",
        objective(effective_from="2200-01-01T00:00:00Z"),
        loc=["body", "effective_from"],
    ),
    "a 30 February": Case(
        "POST", "/v1/events", events(ev(occurred_at="2026-02-30T09:30:00Z")), loc=loc("occurred_at")
    ),
    "goal due at the latest date": Case("POST", "/v1/events", events(goal(due="2199-12-31")), status=200),
    "goal due in 2200": Case("POST", "/v1/events", events(goal(due="2200-01-01")), loc=loc("due")),
    "goal due in 1899": Case("POST", "/v1/events", events(goal(due="1899-12-31")), loc=loc("due")),
}


def _stored(c: TestClient) -> tuple[int, int]:
    store = ledger_of(c).store
    return store.head_position(), store.indexed.count_index()


def _send(c: TestClient, case: Case) -> Any:
    kwargs: dict[str, Any] = {"params": case.params}
    if isinstance(case.body, Raw):
        kwargs["content"] = case.body.text.encode()
        kwargs["headers"] = {"content-type": "application/json"}
    elif case.body is not None:
        kwargs["json"] = case.body
    return c.request(case.method, case.url, **kwargs)


def _check(c: TestClient, name: str, case: Case) -> str | None:
    """What is wrong with the answer to one case, if anything."""
    before = _stored(c)
    r = _send(c, case)
    if r.status_code != case.status:
        return f"{name}: {r.status_code} (wanted {case.status}): {r.text[:300]}"
    if case.status < 400:
        return None
    if not r.headers["content-type"].startswith("application/problem+json"):
        return f"{name}: {r.headers['content-type']}"
    problem = r.json()
    if problem.get("status") != case.status or not problem.get("title") or not problem.get("detail"):
        return f"{name}: not a whole problem document: {problem}"
    errors = problem.get("errors", [])
    if case.loc is not None and case.loc not in [e["loc"] for e in errors]:
        return f"{name}: no error names {case.loc}: {errors}"
    if case.msg is not None and case.msg not in [e["msg"] for e in errors]:
        return f"{name}: no error says {case.msg!r}: {errors}"
    if _stored(c) != before:
        return f"{name}: refused, but something was stored ({before} -> {_stored(c)})"
    return None


def _seed(c: TestClient) -> None:
    seed_roster(c, objectives={"o1": RULE_9_OF_10, "r1": RUBRIC, "pc": PERCENT})
    for p in PREREQUISITES:
        r = c.put(f"/v1/objectives/{p}", json=objective())
        assert r.status_code == 201, r.text
    post(c, {**attempt(), "event_id": EARLIER})


def test_the_hostile_input_corpus(client: TestClient, backend: str) -> None:
    _seed(client)
    started = time.perf_counter()
    failures = [problem for name, case in CASES.items() if (problem := _check(client, name, case))]
    elapsed = time.perf_counter() - started
    assert not failures, "\n".join(failures)
    refused = sum(1 for case in CASES.values() if case.status >= 400)
    print(f"\n{backend}: {len(CASES)} cases ({refused} refused) in {elapsed:.1f} s")

    # The read models still advance: nothing above stuck a projection.
    out = post(client, attempt(correct=10, at="2026-10-01T09:00:00Z"))
    r = client.get(MASTERY, params={"min_position": out["position"]})
    assert r.status_code == 200, r.text
    row = next(o for o in r.json()["objectives"] if o["objective_id"] == "o1")
    assert row["status"] == "mastered" and row["deciding_event_id"] == out["results"][0]["event_id"]


def test_every_endpoint_refuses_an_unknown_query_parameter(client: TestClient) -> None:
    """Each operation the app serves, found in its OpenAPI document so that a
    new endpoint is held to it too, given one parameter it does not have."""
    _seed(client)
    values = {"student_id": "s1", "class_id": "c1", "school_id": "sch1", "objective_id": "o1"}
    operations = [
        (method.upper(), path.format(**values))
        for path, ops in client.get("/openapi.json").json()["paths"].items()
        for method in ops
    ]
    assert len(operations) >= 19, operations
    failures = []
    for method, url in operations:
        case = Case(method, url, params={"zzz": "1"}, loc=["query", "zzz"])
        if problem := _check(client, f"{method} {url}", case):
            failures.append(problem)
    assert not failures, "\n".join(failures)


def test_the_corpus_covers_every_refusal_kind() -> None:
    """Each stated limit is held from both sides: the table keeps an accepted
    case at the limit next to the refused one past it."""
    accepted = [n for n, c in CASES.items() if c.status < 400]
    refused = [n for n, c in CASES.items() if c.status >= 400]
    assert len(accepted) >= 30 and len(refused) >= 100, (len(accepted), len(refused))
    assert all(c.loc is not None for c in CASES.values() if c.status == 422)


# --- live projection and rebuild agree on every accepted edge input ------------


EDGE_STUDENT = (f"s-{ODD}" + "x" * 128)[:128]


def _edge_inputs(c: TestClient) -> int:
    """Store the largest, longest, oddest and earliest/latest values the rules
    accept, through the API; the log position after the last."""
    sid, oid, rid, school = EDGE_STUDENT, "o" * 128, f"r-{ODD}", f"{ODD}-school"
    assert c.put(f"/v1/schools/{school}", json={"name": "N" * 200}).status_code == 201
    r = c.put(f"/v1/students/{sid}", json={"name": ("Ann " * 50)[:200], "grade": ODD, "school_id": school})
    assert r.status_code == 201, r.text
    big = {
        "threshold": {"kind": "correct_of", "min_correct": MAX_COUNT, "of": MAX_COUNT},
        "time_limit_seconds": MAX_COUNT,
        "calculation": {"method": "n_times", "n": 2, "distinct_days": True},
    }
    body = objective(
        statement="S" * 2000, subject=ODD, course="c" * 128, unit=ODD, sequence=MAX_COUNT, rule=big
    )
    body["effective_from"] = "1900-01-01T00:00:00Z"
    assert c.put(f"/v1/objectives/{oid}", json=body).status_code == 201
    levels = [f"{i:02d}" + "L" * 62 for i in range(20)]
    rubric = {"threshold": {"kind": "rubric", "levels": levels, "min_level": levels[10]}}
    assert c.put(f"/v1/objectives/{rid}", json=objective(rule=rubric, prerequisites=[oid])).status_code == 201
    # A revision effective at the latest time: in the log, never in force.
    later = objective(
        statement="S" * 2000, subject=ODD, course="c" * 128, unit=ODD, sequence=0, rule=RULE_9_OF_10
    )
    later["effective_from"] = "2199-12-31T23:59:59+00:00"
    assert c.put(f"/v1/objectives/{oid}", json=later).status_code == 200
    r = c.put(
        f"/v1/classes/{ODD}",
        json={"name": "C" * 200, "school_id": school, "teacher_ids": [ODD], "student_ids": [sid]},
    )
    assert r.status_code == 201, r.text

    now = datetime.now(UTC).isoformat()
    first = {
        **attempt(sid, oid, correct=MAX_COUNT, total=MAX_COUNT, at="1900-01-01T00:00:00Z", form="F" * 32),
        "duration_seconds": 1_000_000,
        "accommodations": {"extended_time_factor": 10},
        "notes": (("a\tb\nc\r\u2028" + ODD) * 1000)[:10_000],
        "items": [
            {"n": i, "max": SAFE, "min": -SAFE, "f": 1.7976931348623157e308, "deep": deep_item(7)["n"]}
            for i in range(500)
        ],
    }
    assert len(first["notes"]) == 10_000
    again = {
        **attempt(sid, oid, correct=MAX_COUNT - 1, total=MAX_COUNT, at="1900-01-01T00:00:00+23:59", form="G"),
        "type": "retake",
        "retake_of": first["event_id"],
    }
    leveled = {**attempt(sid, rid, at=now), "score": {"rubric_level": levels[-1]}}
    reflect = {
        "event_id": new_id(),
        "type": "reflection",
        "student_id": sid,
        "occurred_at": now,
        "on_event": first["event_id"],
        "text": "t" * 10_000,
        "error_analysis": [
            {"item": {"k": [i, None, True, "x" * 100]}, "cause": "c" * 100} for i in range(200)
        ],
    }
    mark = {
        "event_id": new_id(),
        "type": "benchmark",
        "student_id": sid,
        "occurred_at": "1900-01-01T00:00:00-23:59",
        "benchmark_id": f"b-{ODD}",
        "name": "B" * 200,
        # One objective 1,000 times at the largest counts: the projection sums
        # them into one row, 10**9 of 10**9, which every store still holds.
        "results": [{"objective_id": oid, "correct": MAX_COUNT, "total": MAX_COUNT}] * 1000,
    }
    aim = {
        "event_id": new_id(),
        "type": "goal",
        "student_id": sid,
        "occurred_at": now,
        "target_mastered": 100_000,
        "due": "2199-12-31",
    }
    ruling = {
        "event_id": new_id(),
        "type": "override",
        "student_id": sid,
        "occurred_at": "1900-01-02T00:00:00Z",
        "objective_id": rid,
        "status": "mastered",
        "reason": "r" * 10_000,
    }
    undo = {
        "event_id": new_id(),
        "type": "void",
        "student_id": sid,
        "occurred_at": now,
        "target_event_id": again["event_id"],
        "reason": "v" * 10_000,
    }
    post(c, first, again, leveled)
    post(c, reflect, mark, aim)
    return int(post(c, ruling, undo)["position"])


def test_live_projection_and_rebuild_agree_on_every_accepted_edge_input(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = ledger_of(client)
    position = _edge_inputs(client)
    assert projected(ledger, position, 30)
    live = read_model_rows(ledger)
    assert any(EDGE_STUDENT in row for row in live["rm_mastery"]), "the edge inputs were projected"
    assert live["rm_benchmark_results"], live.keys()

    monkeypatch.setenv("MASTERY_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("MASTERY_DATABASE_URL", settings.database_url)
    done = CliRunner().invoke(cli.app, ["rebuild"])
    assert done.exit_code == 0, done.output
    assert read_model_rows(ledger) == live

    # And the live projections go on from there.
    r = client.get(f"/v1/students/{EDGE_STUDENT}/history", params={"min_position": position})
    assert r.status_code == 200, r.text
    assert len(r.json()["events"]) == 8
    # And every read over them answers.
    for url in (
        f"/v1/students/{EDGE_STUDENT}/mastery",
        f"/v1/students/{EDGE_STUDENT}/trajectory",
        f"/v1/students/{EDGE_STUDENT}/objectives/{'o' * 128}/explain",
        f"/v1/classes/{ODD}/mastery-map",
        f"/v1/classes/{ODD}/next",
        f"/v1/classes/{ODD}/groups",
        f"/v1/contradictions?class_id={ODD}",
        f"/v1/schools/{ODD}-school/summary",
        "/v1/objectives",
    ):
        r = client.get(url)
        assert r.status_code == 200, (url, r.text[:300])
    r = client.get("/v1/export", params={"kind": "mastery"})
    assert r.status_code == 200 and EDGE_STUDENT in r.text
