"""(h) Export throughput: rows/s of each export kind in each format (docs/exports.md).

Loads a synthetic district (the bench's generator, services/demo/district.py:
by default one student per 200 events), brings the read models up to
date, then runs every kind × format through `plan_export`, in process (no
HTTP: the figure is the export's own work, reading the store and encoding),
to a file, one after the other. Pseudonymised, as an analyst gets them; the
events kind once more with names and free text opened, as an admin gets it.
Each figure is rows written / wall seconds, with the exporting process's
CPU seconds beside it (on a busy machine the wall time says as much about
the neighbours). A row is a line of NDJSON, a data line of CSV, a row of the
Parquet file, counted from the file written.

`python -m bench.export_rate --events 200000 --backend postgres [--students N]`
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq  # type: ignore[import-untyped]

from bench.stores import fresh_store
from infra.settings import Settings
from services.bootstrap import Ledger, build_ledger
from services.demo.district import District, batches
from services.demo.load import load_roster, write_batches
from services.export.export import KINDS, ExportKind, Stores, plan_export, take_cut
from services.export.formats import FORMATS, Format
from services.projections.rebuild import rebuild


def _rows(path: Path, fmt: Format) -> int:
    if fmt == "parquet":
        return int(pq.ParquetFile(path).metadata.num_rows)
    with path.open("rb") as f:
        lines = sum(1 for _ in f)
    return lines - 1 if fmt == "csv" else lines  # the CSV header


def one_export(
    ledger: Ledger, kind: ExportKind, fmt: Format, pseudonymise: bool, into: Path
) -> dict[str, Any]:
    stores = Stores(ledger.store, ledger.catalog, ledger.engine, ledger.trust)
    began, cpu = time.perf_counter(), time.process_time()
    export = plan_export(stores, kind, fmt, pseudonymise, take_cut(ledger.store))
    size = 0
    with into.open("wb") as f:
        for chunk in export.chunks:
            size += f.write(chunk)
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    rows = _rows(into, fmt)
    return {
        "kind": kind,
        "format": fmt,
        "pseudonymised": pseudonymise,
        "rows": rows,
        "bytes": size,
        "seconds": seconds,
        "cpu_seconds": cpu,  # this process only (not the database server's)
        "rows_per_s": rows / seconds if seconds else 0.0,
    }


def measure(ledger: Ledger, workdir: Path) -> list[dict[str, Any]]:
    runs: list[tuple[ExportKind, Format, bool]] = [(k, f, True) for k in KINDS for f in FORMATS]
    runs.append(("events", "ndjson", False))
    return [one_export(ledger, k, f, pseudo, workdir / f"{k}.{f}") for k, f, pseudo in runs]


def load(settings: Settings, events: int, students: int, seed: int) -> dict[str, Any]:
    district = District(seed, students, heavy_events=0)
    with closing(build_ledger(settings)) as ledger:
        load_roster(ledger, district)
        stored, seconds = write_batches(ledger, batches(district.events(events), 1_000))
        rebuild(ledger)
        return {
            "students": len(district.student_ids),
            "objectives": len(district.objective_ids),
            "events": stored,
            "load_seconds": seconds,
            "log_entries": ledger.store.head_position(),
        }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.export_rate", description=__doc__)
    p.add_argument("--events", type=int, default=200_000)
    p.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    p.add_argument("--students", type=int, default=None, help="default: one per 200 events")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--out", type=Path, default=None, help="write the figures as JSON here too")
    args = p.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="mastery-export-bench-") as tmp,
        fresh_store(args.backend, Path(tmp) / "data") as s,
    ):
        store = load(s, args.events, args.students or max(50, args.events // 200), args.seed)
        with closing(build_ledger(s)) as ledger:
            figures = measure(ledger, Path(tmp))
    print(f"exports, {args.backend}, {store['events']:,} events, {store['students']:,} students:")
    for f in figures:
        who = "pseudonymised" if f["pseudonymised"] else "named"
        print(
            f"  {f['kind']:<10} {f['format']:<7} {who:<13} {f['rows']:>9,} rows  {f['seconds']:7.2f} s "
            f"(CPU {f['cpu_seconds']:6.2f} s)  {f['rows_per_s']:>9,.0f} rows/s  {f['bytes'] / 1e6:7.1f} MB"
        )
    if args.out:
        args.out.write_text(json.dumps({"backend": args.backend, **store, "exports": figures}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
