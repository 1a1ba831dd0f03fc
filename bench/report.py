"""The table of figures and ratios (rich) and the JSON record of a run."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

TARGETS = {
    "ingest": "≥ 25,000 events/s; ≥ 25 % of raw COPY",
    "rebuild": "≥ 50,000 events/s; ≥ 50 % of read-and-decode",
    "reads": "p99 ≤ 20 ms at 10M events",
    "replay": "≤ 100 ms",
    "lag": "p99 ≤ 1 s (embedded)",
}


def _ms(d: dict[str, Any]) -> str:
    if not d.get("n"):
        return str(d.get("note", "not measured"))
    return f"p50 {d['p50']:.1f} ms · p99 {d['p99']:.1f} ms · max {d['max']:.1f} ms (n={d['n']})"


def table(results: dict[str, Any], title: str) -> Table:
    t = Table(title=title)
    for col in ("measure", "figure", "floor (same run)", "ratio", "target"):
        t.add_column(col)
    ing, reb = results["ingest"], results["rebuild"]
    t.add_row(
        f"(a) HTTP ingest, batches of {ing['batch']:,}, {ing['clients']} clients, "
        f"{ing['processes']} server processes",
        f"{ing['rate']:,.0f} events/s",
        f"{ing['floor']} {ing['floor_rate']:,.0f} rows/s"
        f" (per-1,000 commits {ing['floor_batched_rate']:,.0f})",
        f"{ing['ratio']:.1%} ({ing['ratio_batched']:.1%})",
        TARGETS["ingest"],
    )
    t.add_row(
        f"(b) projection rebuild of {reb['entries']:,} entries, {reb['workers']} processes",
        f"{reb['rate']:,.0f} events/s",
        f"read+decode {reb['floor_rate']:,.0f} events/s",
        f"{reb['ratio']:.1%}",
        TARGETS["rebuild"],
    )
    sm = results["student_mastery"]
    t.add_row(
        f"(c) GET student mastery at {results['log_entries']:,} entries",
        _ms(sm),
        "raw SELECT " + _ms(sm["floor"]),
        f"p99 floor/endpoint {sm['floor']['p99'] / sm['p99']:.1%}" if sm.get("n") else "",
        TARGETS["reads"],
    )
    t.add_row("(c) GET class mastery-map", _ms(results["class_map"]), "", "", TARGETS["reads"])
    ar = results["audit_replay"]
    t.add_row(f"(d) audit replay, {ar['events']:,} events", _ms(ar), "", "", TARGETS["replay"])
    for key, where in (("embedded_lag", "embedded (SQLite)"), ("lag", f"{results['backend']}")):
        lag = results.get(key)
        if lag is None or (key == "lag" and results["backend"] == "sqlite"):
            continue
        t.add_row(
            f"(e) write→readable lag, {where}, one process (role all), "
            f"under {lag['load_events_per_s']:,.0f} events/s",
            _ms(lag),
            "",
            f"503s: {lag['unanswered_503']}",
            TARGETS["lag"] if key == "embedded_lag" else "",
        )
    put = results.get("profile_put")
    if put:
        t.add_row(
            f"(f) PUT student with {put['history']['events']:,} events",
            _ms(put["history"]),
            "same PUT, no events: " + _ms(put["none"]),
            f"p50 ratio {put['ratio_p50']:.2f}",
            "flat (ratio ≈ 1)",
        )
    access = results.get("access_log")
    if access is not None:
        rec, none = access["recorded"], access["not_recorded"]
        t.add_row(
            "(g) GET student mastery in process, recorded in the access log",
            _ms(rec),
            "not recorded " + _ms(none),
            f"p50 {access['p50_added_ms']:+.3f} ms · mean {access['mean_added_ms']:+.3f} ms",
            "not measurably slower",
        )
        w = access["recorder"]
        t.add_row(
            "(g) access-log recorder",
            f"record() {w['enqueue_us']:.1f} µs/entry",
            "",
            f"writes {w['write_rate']:,.0f} entries/s, {w['rows_per_insert']:,.0f} rows/INSERT",
            "",
        )
    ver = results.get("verify")
    if ver is not None:
        t.add_row(
            f"(h) mastery verify of {ver['events']:,} events in {ver['streams']:,} streams, one process",
            f"{ver['rate']:,.0f} events/s",
            f"read of the same pages {ver['floor_rate']:,.0f} rows/s",
            f"{ver['ratio']:.1%}",
            "",
        )
    bulk = results["bulk_in_process"]
    t.add_row(
        "bulk load in process (EventWriter)",
        f"{bulk['rate']:,.0f} events/s",
        "",
        "",
        f"{bulk['events']:,} events in {bulk['seconds']:.0f} s",
    )
    return t


def print_table(results: dict[str, Any], title: str) -> None:
    Console(width=200).print(table(results, title))
