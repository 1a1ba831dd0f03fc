"""The floors each figure is a ratio against, measured in the same run on the same rows.

* ingest: raw `COPY` (PostgreSQL) of the very stored-event rows and event-index
  rows the HTTP slice wrote (same bytes), into fresh tables of the same shape;
  on SQLite, the same rows by `executemany` into same-shaped tables.
* rebuild: raw read-and-decode of the whole log (`select_notifications` and
  `mapper.to_domain_event`, in the rebuild's batch size), writing nothing.
* reads: a raw driver `SELECT` of the same rows the endpoint serves.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.sql import SQL, Identifier

from services.bootstrap import Ledger

FLOOR_BATCH = 1000


@dataclass(frozen=True)
class CopyFloor:
    rows: int
    state_bytes: int
    one_copy_seconds: float  # every row in one COPY, one commit
    batched_seconds: float  # one COPY and one commit per 1,000 rows, as the HTTP batches commit

    @property
    def rate(self) -> float:
        return self.rows / self.one_copy_seconds

    @property
    def batched_rate(self) -> float:
        return self.rows / self.batched_seconds


def _pg_types(conn: psycopg.Connection[Any], table: str) -> list[str]:
    rows = conn.execute(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        [table],
    ).fetchall()
    return [str(r[0]) for r in rows]


def copy_floor_postgres(ledger: Ledger, after: int, upto: int, event_ids: Sequence[str]) -> CopyFloor:
    url = ledger.settings.database_url
    assert url is not None
    table = ledger.store.indexed.events_table_name
    with psycopg.connect(url) as conn:
        cur = conn.execute(
            SQL("SELECT * FROM {} WHERE notification_id > %s AND notification_id <= %s ORDER BY 1").format(
                Identifier(table)
            ),
            [after, upto],
        )
        events = cur.fetchall()
        state_at = [d.name for d in cur.description or ()].index("state")
        index = conn.execute(
            "SELECT * FROM event_index WHERE event_id = ANY(%s)", [list(event_ids)]
        ).fetchall()
        timings = []
        for name, per in (("one", len(events) + len(index)), ("batched", FLOOR_BATCH)):
            ev_t, ix_t = f"bench_floor_{name}_events", f"bench_floor_{name}_index"
            for fresh, like in ((ev_t, table), (ix_t, "event_index")):
                conn.execute(
                    SQL("CREATE TABLE {} (LIKE {} INCLUDING CONSTRAINTS INCLUDING INDEXES)").format(
                        Identifier(fresh), Identifier(like)
                    )
                )
            conn.commit()
            types = {ev_t: _pg_types(conn, table), ix_t: _pg_types(conn, "event_index")}
            started = time.perf_counter()
            with conn.cursor() as cur:
                for i in range(0, max(len(events), len(index)), per):
                    for fresh, rows in ((ev_t, events[i : i + per]), (ix_t, index[i : i + per])):
                        if not rows:
                            continue
                        with cur.copy(
                            SQL("COPY {} FROM STDIN (FORMAT BINARY)").format(Identifier(fresh))
                        ) as cp:
                            cp.set_types(types[fresh])
                            for row in rows:
                                cp.write_row(row)
                    conn.commit()
            timings.append(time.perf_counter() - started)
        for name in ("one", "batched"):
            for kind in ("events", "index"):
                conn.execute(SQL("DROP TABLE {}").format(Identifier(f"bench_floor_{name}_{kind}")))
        conn.commit()
    state = sum(len(r[state_at]) for r in events)
    return CopyFloor(len(events), state, timings[0], timings[1])


def copy_floor_sqlite(ledger: Ledger, after: int, upto: int, event_ids: Sequence[str]) -> CopyFloor:
    src = sqlite3.connect(ledger.settings.events_path)
    table = ledger.store.indexed.events_table_name
    events = src.execute(
        f"SELECT originator_id, originator_version, topic, state, chain FROM {table} "
        "WHERE rowid > ? AND rowid <= ? ORDER BY rowid",
        (after, upto),
    ).fetchall()
    index: list[Any] = []
    ids = list(event_ids)
    for i in range(0, len(ids), 900):
        chunk = ids[i : i + 900]
        index += src.execute(
            f"SELECT * FROM event_index WHERE event_id IN ({','.join('?' * len(chunk))})", chunk
        ).fetchall()
    ddl = dict(src.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall())
    src.close()
    timings = []
    for name, per in (("one", len(events) + len(index)), ("batched", FLOOR_BATCH)):
        path = ledger.settings.data_dir / f"floor-{name}.sqlite"
        path.unlink(missing_ok=True)
        dst = sqlite3.connect(path, isolation_level=None)
        dst.execute("PRAGMA journal_mode=WAL")
        dst.execute(ddl[table])
        dst.execute(ddl["event_index"])
        started = time.perf_counter()
        for i in range(0, max(len(events), len(index)), per):
            dst.execute("BEGIN")
            dst.executemany(f"INSERT INTO {table} VALUES (?,?,?,?,?)", events[i : i + per])
            dst.executemany("INSERT INTO event_index VALUES (?,?,?,?,?)", index[i : i + per])
            dst.execute("COMMIT")
        timings.append(time.perf_counter() - started)
        dst.close()
        path.unlink()
    return CopyFloor(len(events), sum(len(r[3]) for r in events), timings[0], timings[1])


def decode_floor(ledger: Ledger) -> tuple[int, float]:
    """Read and decode every log entry, in the rebuild's batch size: (entries, seconds)."""
    store, batch = ledger.store, ledger.settings.rebuild_batch_size
    start, n = 0, 0
    started = time.perf_counter()
    while notes := store.recorder.select_notifications(start, batch, inclusive_of_start=False):
        for note in notes:
            store.mapper.to_domain_event(note)
        n += len(notes)
        start = notes[-1].id
    return n, time.perf_counter() - started


def raw_mastery_select(ledger: Ledger, students: Sequence[str]) -> list[float]:
    """Seconds per raw SELECT of one student's rm_mastery rows, through the bare driver."""
    out = []
    q = "SELECT * FROM rm_mastery WHERE student_id = {} ORDER BY objective_id"
    if ledger.settings.database_url:
        with psycopg.connect(ledger.settings.database_url, autocommit=True) as conn:
            for s in students:
                t = time.perf_counter()
                conn.execute(q.format("%s"), [s], prepare=True).fetchall()
                out.append(time.perf_counter() - t)
    else:
        conn2 = sqlite3.connect(ledger.settings.readmodels_path)
        for s in students:
            t = time.perf_counter()
            conn2.execute(q.format("?"), (s,)).fetchall()
            out.append(time.perf_counter() - t)
        conn2.close()
    return out
