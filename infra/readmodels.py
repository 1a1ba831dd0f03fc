"""The read-model schema: every table the projections write and the query and
export services read, in one module both sides import (neither imports the
other; pyproject.toml's independence contract).

Table and column names are those of stores already in the field: change them
only with a migration. Each projection's tables come from a factory taking a
suffix, so that a rebuild fills fresh tables of the same shape beside the live
ones (services/projections/rebuild.py); the module-level tables are the live ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Float, Index, Integer, MetaData, String, Table
from sqlalchemy.engine import Row, RowMapping

from domain.records import LearningRecord, Meta, parse_record
from infra.readstore import metadata

# --- the catalog and roster (services/projections/catalog.py)


@dataclass(frozen=True)
class CatalogTables:
    objectives: Table
    schools: Table
    students: Table
    classes: Table
    enrolments: Table

    @classmethod
    def make(cls, md: MetaData, suffix: str = "") -> CatalogTables:
        def keyed(name: str, key: str, *cols: Column[Any] | Index) -> Table:
            # stream_id finds the row of a change event, which carries only its stream;
            # stream_version is the version of that stream the row reflects: a
            # redelivered or replayed event at or below it changes nothing
            # (NULL in rows written before it was kept: every event applies).
            versioned = () if key == "objective_id" else (Column("stream_version", Integer),)
            return Table(
                name + suffix,
                md,
                Column(key, String, primary_key=True),
                Column("stream_id", String, nullable=False, unique=True),
                *versioned,
                *cols,
            )

        return cls(
            objectives=keyed(
                "rm_objectives",
                "objective_id",
                Column("statement", String, nullable=False),
                Column("subject", String, nullable=False),
                Column("course", String, nullable=False),
                Column("unit", String, nullable=False),
                Column("sequence", Integer, nullable=False),
                Column("prerequisites", JSON, nullable=False),
                Column("rule_versions", JSON, nullable=False),
                Column("stream_version", Integer, nullable=False),
                # GET /v1/objectives pages through the catalog in course order.
                Index(None, "course", "sequence", "objective_id"),
            ),
            schools=keyed("rm_schools", "school_id", Column("name", String, nullable=False)),
            students=keyed(
                "rm_students",
                "student_id",
                Column("name", String, nullable=False),
                Column("grade", String, nullable=False),
                Column("school_id", String, nullable=False, index=True),
            ),
            classes=keyed(
                "rm_classes",
                "class_id",
                Column("name", String, nullable=False),
                Column("school_id", String, nullable=False, index=True),
                Column("teacher_ids", JSON, nullable=False),
                # The class's OneRoster course (SchoolClass.CourseAssigned); null
                # for a class given none (PUT /v1/classes carries no course).
                Column("course_id", String),
                Column("course_title", String),
                Column("course_code", String),
            ),
            enrolments=Table(
                "rm_enrolments" + suffix,
                md,
                Column("class_id", String, primary_key=True),
                Column("student_id", String, primary_key=True, index=True),
            ),
        )

    def all(self) -> tuple[Table, ...]:
        return (self.objectives, self.schools, self.students, self.classes, self.enrolments)


CATALOG = CatalogTables.make(metadata)
objectives, schools, students, classes, enrolments = CATALOG.all()


# --- learning records, statuses, the rule clock, benchmarks and contradictions
# (services/projections/mastery.py and the modules it owns)


def records_table(md: MetaData, suffix: str = "") -> Table:
    """One row per learning event, with the objective it bears on resolved (a
    reflection or void inherits its target's)."""
    return Table(
        "rm_learning_records" + suffix,
        md,
        Column("event_id", String, primary_key=True),
        Column("student_id", String, nullable=False),
        Column("objective_id", String),
        Column("record_type", String, nullable=False),
        Column("seq", Integer, nullable=False),
        Column("position", Integer, nullable=False),
        Column("occurred_at", String, nullable=False),
        Column("recorded_at", String, nullable=False),
        Column("recorded_by", String, nullable=False),
        Column("body", JSON, nullable=False),
        Index(None, "student_id", "objective_id"),
    )


def mastery_table(md: MetaData, suffix: str = "") -> Table:
    return Table(
        "rm_mastery" + suffix,
        md,
        Column("student_id", String, primary_key=True),
        Column("objective_id", String, primary_key=True),
        Column("status", String, nullable=False),
        Column("source", String),
        Column("score", Float),
        Column("evidence_count", Integer, nullable=False),
        Column("deciding_event_id", String),
        Column("mastered_at", String),
        Column("flags", JSON, nullable=False),
        Column("rule_version", Integer),
        # The highest stream version of the student this row reflects.
        Column("stream_version", Integer, nullable=False),
    )


def rule_clock_table(md: MetaData, suffix: str = "") -> Table:
    """Rule versions whose effective_from was still ahead when they were recorded."""
    return Table(
        "rm_rule_clock" + suffix,
        md,
        Column("objective_id", String, primary_key=True),
        Column("version", Integer, primary_key=True),
        Column("effective_from", String, nullable=False),
    )


def rule_versions_table(md: MetaData, suffix: str = "") -> Table:
    """The rule versions of every objective, as the objective streams issued
    them (Objective.Defined is version 1): the mastery projection's own copy,
    applied in log order with the evidence it judges."""
    return Table(
        "rm_rule_versions" + suffix,
        md,
        Column("objective_id", String, primary_key=True),
        Column("version", Integer, primary_key=True),
        Column("rule", JSON, nullable=False),
        Column("effective_from", String, nullable=False),
        Column("recorded_at", String, nullable=False),
    )


def benchmark_results_table(md: MetaData, suffix: str = "") -> Table:
    """One row per benchmark event × objective (the records table holds one objective a row)."""
    return Table(
        "rm_benchmark_results" + suffix,
        md,
        Column("event_id", String, primary_key=True),
        Column("objective_id", String, primary_key=True),
        Column("student_id", String, nullable=False),
        Column("benchmark_id", String, nullable=False),
        Column("name", String, nullable=False),
        Column("correct", Integer, nullable=False),
        Column("total", Integer, nullable=False),
        Column("seq", Integer, nullable=False),
        Column("occurred_at", String, nullable=False),
        Column("recorded_at", String, nullable=False),
        Column("recorded_by", String, nullable=False),
        Index(None, "student_id", "objective_id"),
    )


def contradictions_table(md: MetaData, suffix: str = "") -> Table:
    return Table(
        "rm_contradictions" + suffix,
        md,
        Column("student_id", String, primary_key=True),
        Column("objective_id", String, primary_key=True),
        Column("n", Integer, primary_key=True),  # the span's place in the pair's history
        Column("kind", String, nullable=False),
        Column("mastery_status", String, nullable=False),
        Column("benchmark_event_id", String, nullable=False),
        Column("benchmark_id", String, nullable=False),
        Column("benchmark_percent", Float, nullable=False),
        Column("detected_at", String, nullable=False),
        Column("resolved_at", String),
    )


learning_records = records_table(metadata)
mastery_current = mastery_table(metadata)
rule_clock = rule_clock_table(metadata)
rule_versions = rule_versions_table(metadata)
benchmark_results = benchmark_results_table(metadata)
contradictions = contradictions_table(metadata)


def meta_of_row(m: RowMapping | Mapping[str, Any]) -> Meta:
    """The `Meta` of a row of a table keyed by learning event (records, benchmark items)."""
    return Meta(
        m["event_id"],
        int(m["seq"]),
        datetime.fromisoformat(m["occurred_at"]),
        datetime.fromisoformat(m["recorded_at"]),
        m["recorded_by"],
    )


def record_of_row(row: Row[Any] | dict[str, Any]) -> LearningRecord:
    """A records row as the same `LearningRecord` the event itself gives, so
    live, rebuilt and replayed statuses use one input."""
    m = row._mapping if isinstance(row, Row) else row
    return parse_record(m["record_type"], meta_of_row(m), m["body"])


# --- events a projection set aside (services/projections/parked.py)

parked_events = Table(
    "projection_parked",
    metadata,
    Column("projection", String, primary_key=True),
    Column("position", BigInteger, primary_key=True),
    Column("stream_id", String, nullable=False),
    Column("stream_version", BigInteger, nullable=False),
    Column("event_id", String),  # a learning event's own id; roster and catalog events have none
    Column("topic", String, nullable=False),
    Column("held_behind", BigInteger),  # the position of the failed event of this stream it waits for
    Column("error_type", String, nullable=False),
    Column("error", String, nullable=False),
    Column("first_failed_at", String, nullable=False),
    Column("last_failed_at", String, nullable=False),
    Column("attempts", Integer, nullable=False),
    Index(None, "projection", "stream_id"),
)
