"""Hostile-input cases (issue 10), part 2: both sides of each stated limit of
docs/input-rules.md on ids, text and integers."""

from __future__ import annotations

from tests.helpers import (
    RULE_9_OF_10,
)
from tests.integration.hostile_cases import (
    MASTERY,
    MAX_COUNT,
    ODD,
    Case,
    benchmark,
    ev,
    events,
    goal,
    klass,
    loc,
    objective,
    override,
    reflection,
    rule,
    student,
    void,
)

CASES: dict[str, Case] = {
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
}
