"""Hostile-input cases (issue 10), part 3: both sides of each stated limit of
docs/input-rules.md on list lengths, numbers, free-form JSON and times."""

from __future__ import annotations

from tests.integration.hostile_cases import (
    MASTERY,
    PREREQUISITES,
    SAFE,
    Case,
    benchmark,
    deep_item,
    ev,
    events,
    goal,
    klass,
    loc,
    objective,
    reflection,
    rule,
)

CASES: dict[str, Case] = {
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
