"""Benchmark results and the contradictions they raise, owned by the mastery projection.

A benchmark event names several objectives, so the learning-records table
(one objective per row) cannot hold it; `rm_benchmark_results` has one row per
benchmark event × objective. `rm_contradictions` keeps every contradiction
that stood on a (student, objective) with `detected_at` and `resolved_at`; it
is rewritten from the records whenever the pair is recomputed, so it is the
same however events were batched (live, redelivered or rebuilt).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Float, Index, Integer, MetaData, String, Table, delete, select, tuple_
from sqlalchemy.engine import Connection

from domain.learner import Learner
from domain.records import Benchmark, BenchmarkResult, LearningRecord, Meta
from domain.rules.benchmark import ContradictionSpan
from infra.readstore import insert_ignore, metadata
from services.projections.records import record_of_row

_CHUNK = 400


def benchmark_results_table(md: MetaData, suffix: str = "") -> Table:
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


benchmark_results = benchmark_results_table(metadata)
contradictions = contradictions_table(metadata)


def store_benchmarks(
    conn: Connection, table: Table, events: Sequence[tuple[int, Learner.LearningEvent]]
) -> set[tuple[str, str]]:
    """Insert the benchmark rows of a batch (ignoring redeliveries); return the
    (student, objective) pairs they bear on."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for _pos, ev in events:
        if ev.record_type != "benchmark":
            continue
        for r in ev.body["results"]:
            key = (ev.event_id, str(r["objective_id"]))
            row = rows.get(key)
            if row is None:
                rows[key] = {
                    "event_id": ev.event_id,
                    "objective_id": key[1],
                    "student_id": ev.student_id,
                    "benchmark_id": ev.body["benchmark_id"],
                    "name": ev.body.get("name", ""),
                    "correct": int(r["correct"]),
                    "total": int(r["total"]),
                    "seq": ev.originator_version,
                    "occurred_at": ev.occurred_at.isoformat(),
                    "recorded_at": ev.timestamp.isoformat(),
                    "recorded_by": ev.recorded_by,
                }
            else:  # the same objective twice in one test: its items together
                row["correct"] += int(r["correct"])
                row["total"] += int(r["total"])
    insert_ignore(conn, table, list(rows.values()))
    return {(r["student_id"], r["objective_id"]) for r in rows.values()}


def voided_benchmark_pairs(
    conn: Connection, bench: Table, records: Table, voids: Iterable[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Pairs whose benchmark a void (or a void of such a void) in this batch
    targets. `voids` are (void event id, target event id) of voids that
    resolved to no objective."""
    pairs: set[tuple[str, str]] = set()
    targets = {t for _, t in voids}
    for _depth in range(16):  # void chains are short; this bounds a malformed one
        if not targets:
            break
        ids = sorted(targets)
        found_bench: set[str] = set()
        nxt: set[str] = set()
        for i in range(0, len(ids), _CHUNK):
            part = ids[i : i + _CHUNK]
            for r in conn.execute(
                select(bench.c.event_id, bench.c.student_id, bench.c.objective_id).where(
                    bench.c.event_id.in_(part)
                )
            ):
                pairs.add((r.student_id, r.objective_id))
                found_bench.add(r.event_id)
            q = select(records.c.body).where(
                records.c.event_id.in_(part),
                records.c.record_type == "void",
                records.c.objective_id.is_(None),
            )
            nxt |= {str(b["target_event_id"]) for b in conn.execute(q).scalars()}
        targets = nxt - found_bench
    return pairs


def benchmark_records_for(
    conn: Connection, bench: Table, records: Table, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], list[LearningRecord]]:
    """For each pair with benchmark results: those benchmarks (their items on
    the objective) and the student's voids that bear on no objective (the only
    ones that can retract a benchmark, or retract such a void)."""
    keys = sorted(set(pairs))
    out: dict[tuple[str, str], list[LearningRecord]] = {}
    for i in range(0, len(keys), _CHUNK):
        q = select(bench).where(tuple_(bench.c.student_id, bench.c.objective_id).in_(keys[i : i + _CHUNK]))
        for r in conn.execute(q):
            meta = Meta(
                r.event_id,
                int(r.seq),
                datetime.fromisoformat(r.occurred_at),
                datetime.fromisoformat(r.recorded_at),
                r.recorded_by,
            )
            out.setdefault((r.student_id, r.objective_id), []).append(
                Benchmark(
                    meta, r.benchmark_id, r.name, (BenchmarkResult(r.objective_id, r.correct, r.total),)
                )
            )
    students = sorted({s for s, _ in out})
    voids: dict[str, list[LearningRecord]] = {}
    for i in range(0, len(students), _CHUNK):
        q = select(records).where(
            records.c.student_id.in_(students[i : i + _CHUNK]),
            records.c.record_type == "void",
            records.c.objective_id.is_(None),
        )
        for row in conn.execute(q):
            voids.setdefault(row.student_id, []).append(record_of_row(row))
    for (student, _oid), recs in out.items():
        recs.extend(voids.get(student, ()))
    return out


def write_history(
    conn: Connection, table: Table, histories: dict[tuple[str, str], list[ContradictionSpan]]
) -> None:
    """Replace the contradiction history of each pair."""
    keys = sorted(histories)
    for i in range(0, len(keys), _CHUNK):
        conn.execute(
            delete(table).where(tuple_(table.c.student_id, table.c.objective_id).in_(keys[i : i + _CHUNK]))
        )
    rows = [
        {
            "student_id": student,
            "objective_id": oid,
            "n": n,
            "kind": span.contradiction.kind,
            "mastery_status": span.contradiction.mastery_status,
            "benchmark_event_id": span.contradiction.benchmark.event_id,
            "benchmark_id": span.contradiction.benchmark.benchmark_id,
            "benchmark_percent": round(span.contradiction.benchmark.percent, 2),
            "detected_at": span.detected_at.isoformat(),
            "resolved_at": span.resolved_at.isoformat() if span.resolved_at else None,
        }
        for (student, oid) in keys
        for n, span in enumerate(histories[(student, oid)])
    ]
    if rows:
        conn.execute(table.insert(), rows)
