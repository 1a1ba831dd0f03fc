"""The columns of each export kind, with their types (docs/exports.md).

One declaration serves every format: the Parquet schema (services/export/
formats.py), the CSV header and the NDJSON keys come from it, so the three
cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

# int64, string, timestamp[us, UTC], bool, float64, list<string>
Kind = Literal["int", "str", "ts", "bool", "float", "list"]
Row = dict[str, Any]
Batch = list[Row]


@dataclass(frozen=True)
class Col:
    name: str
    kind: Kind
    nullable: bool = False


# Where the student stands in the roster (the read models at the export's cut).
PLACEMENT = (
    Col("school_id", "str", nullable=True),
    Col("grade", "str", nullable=True),
    Col("class_ids", "list"),
    # Each class's OneRoster course (sourcedId), in class_ids' order; null for a class without one.
    Col("class_course_ids", "list"),
)

# What the objective is part of (the catalog).
CURRICULUM = (
    Col("subject", "str", nullable=True),
    Col("course", "str", nullable=True),
    Col("unit", "str", nullable=True),
)

# The score as recorded, and on a 0-1 scale (services/export/scores.py).
SCORE = (
    Col("correct", "int", nullable=True),
    Col("total", "int", nullable=True),
    Col("percent", "float", nullable=True),
    Col("rubric_level", "str", nullable=True),
    Col("score", "float", nullable=True),
)

EVENT_COLUMNS = (
    Col("position", "int"),
    Col("event_id", "str"),
    Col("type", "str"),
    Col("student_id", "str"),
    *PLACEMENT,
    Col("objective_id", "str", nullable=True),
    *CURRICULUM,
    Col("occurred_at", "ts"),
    Col("recorded_at", "ts"),
    Col("recorded_by", "str"),
    *SCORE,
    Col("payload", "str"),
)

MASTERY_COLUMNS = (
    Col("student_id", "str"),
    *PLACEMENT,
    Col("objective_id", "str"),
    *CURRICULUM,
    Col("event_id", "str"),
    Col("type", "str"),
    Col("occurred_at", "ts"),
    Col("recorded_at", "ts"),
    Col("voided", "bool"),
    Col("status_before", "str", nullable=True),
    Col("status_after", "str", nullable=True),
    Col("changed", "bool"),
    *SCORE,
)

ROSTER_COLUMNS = (
    Col("student_id", "str"),
    Col("name", "str", nullable=True),  # null in a pseudonymised export; "[erased]" after an erasure
    Col("grade", "str"),
    Col("school_id", "str"),
    Col("school_name", "str", nullable=True),
    Col("class_ids", "list"),
    Col("class_names", "list"),
    Col("class_course_ids", "list"),  # in class_ids' order; null for a class without a course
    Col("class_course_titles", "list"),
)

OBJECTIVE_COLUMNS = (
    Col("objective_id", "str"),
    Col("statement", "str"),
    Col("subject", "str"),
    Col("course", "str"),
    Col("unit", "str"),
    Col("sequence", "int"),
    Col("prerequisites", "list"),
    Col("rule_version", "int", nullable=True),
    Col("rule_effective_from", "ts", nullable=True),
    Col("threshold_kind", "str", nullable=True),
    Col("threshold", "float", nullable=True),
    Col("method", "str", nullable=True),
    Col("rule", "str", nullable=True),
)

COLUMNS: dict[str, tuple[Col, ...]] = {
    "events": EVENT_COLUMNS,
    "mastery": MASTERY_COLUMNS,
    "roster": ROSTER_COLUMNS,
    "objectives": OBJECTIVE_COLUMNS,
}
