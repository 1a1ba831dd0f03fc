"""Hostile-input cases (issue 10), part 1: the poison writes, the 500s, and
what was accepted though the contract refuses it."""

from __future__ import annotations

import json

from tests.integration.hostile_cases import (
    DEPTH_MSG,
    MASTERY,
    Case,
    Raw,
    benchmark,
    ev,
    events,
    goal,
    klass,
    loc,
    nested,
    objective,
    raw,
    reflection,
    rule,
    student,
)

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
}
