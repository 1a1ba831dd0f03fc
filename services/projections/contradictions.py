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
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection

from domain.learner import Learner
from domain.records import Benchmark, BenchmarkResult, LearningRecord
from domain.rules.benchmark import ContradictionSpan
from infra.bulk import Condition, delete_by_keys, fetch_by_keys, insert_ignore, insert_rows
from infra.readmodels import meta_of_row, record_of_row


def store_benchmarks(
    conn: Connection,
    table: Table,
    events: Sequence[tuple[int, Learner.LearningEvent]],
    *,
    fresh: bool = False,
) -> list[dict[str, Any]]:
    """Insert the benchmark rows of a batch (ignoring redeliveries; `fresh`:
    the table cannot hold them yet) and return them: one per benchmark event
    and objective it bears on."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for _pos, ev in events:
        if not isinstance(ev, Learner.BenchmarkRecorded):
            continue
        for r in ev.results:
            key = (ev.event_id, str(r["objective_id"]))
            row = rows.get(key)
            if row is None:
                rows[key] = {
                    "event_id": ev.event_id,
                    "objective_id": key[1],
                    "student_id": ev.student_id,
                    "benchmark_id": ev.benchmark_id,
                    "name": ev.name,
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
    (insert_rows if fresh else insert_ignore)(conn, table, list(rows.values()))
    return list(rows.values())


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
        keys = [(t,) for t in targets]
        found = fetch_by_keys(
            conn, bench, ["event_id"], keys, columns=["event_id", "student_id", "objective_id"]
        )
        pairs |= {(r["student_id"], r["objective_id"]) for r in found}
        voids_of_voids = fetch_by_keys(conn, records, ["event_id"], keys, _STRAY_VOIDS, columns=["body"])
        targets = {str(r["body"]["target_event_id"]) for r in voids_of_voids} - {r["event_id"] for r in found}
    return pairs


# Voids that bear on no objective: the only ones that can retract a benchmark, or such a void.
_STRAY_VOIDS: list[Condition] = [("record_type", "=", "void"), ("objective_id", "is null", None)]


def benchmark_of_row(row: dict[str, Any]) -> Benchmark:
    """One benchmark's items on one objective, as the rules read it."""
    meta = meta_of_row(row)
    result = BenchmarkResult(row["objective_id"], int(row["correct"]), int(row["total"]))
    return Benchmark(meta, row["benchmark_id"], row["name"], (result,))


def benchmark_inputs(
    bench_rows: Iterable[dict[str, Any]], stray_voids: Iterable[dict[str, Any]]
) -> dict[tuple[str, str], list[LearningRecord]]:
    """Per pair with benchmark results: those benchmarks, and the student's
    voids that bear on no objective (rows of the learning-records table)."""
    out: dict[tuple[str, str], list[LearningRecord]] = {}
    for r in bench_rows:
        out.setdefault((r["student_id"], r["objective_id"]), []).append(benchmark_of_row(r))
    voids: dict[str, list[LearningRecord]] = {}
    for row in stray_voids:
        voids.setdefault(row["student_id"], []).append(record_of_row(row))
    for (student, _oid), recs in out.items():
        recs.extend(voids.get(student, ()))
    return out


def benchmark_records_for(
    conn: Connection, bench: Table, records: Table, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], list[LearningRecord]]:
    """`benchmark_inputs` of these pairs, read from the tables."""
    bench_rows = fetch_by_keys(conn, bench, ["student_id", "objective_id"], pairs)
    students = {(r["student_id"],) for r in bench_rows}
    return benchmark_inputs(bench_rows, fetch_by_keys(conn, records, ["student_id"], students, _STRAY_VOIDS))


def write_history(
    conn: Connection,
    table: Table,
    histories: dict[tuple[str, str], list[ContradictionSpan]],
    *,
    replace: bool = True,
) -> None:
    """Replace the contradiction history of each pair (`replace=False`: the
    table holds nothing of these pairs yet)."""
    keys = sorted(histories)
    if replace:
        delete_by_keys(conn, table, ["student_id", "objective_id"], keys)
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
    insert_rows(conn, table, rows)
