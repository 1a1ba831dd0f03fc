"""A SIGKILLed `mastery rebuild` leaves no process behind (issue 10: on
PostgreSQL its bulk-load workers went on running, holding 28 connections)."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from sqlalchemy import select

from infra.readmodels import learning_records, students
from infra.settings import Settings
from services.bootstrap import build_ledger
from services.demo.district import District, batches
from services.demo.load import load_roster, write_batches
from services.projections.rebuild import SHADOW


def _children(pid: int) -> set[int]:
    """The live processes whose parent is `pid` (from /proc: psutil is no dependency)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # gone meanwhile
                continue
            # pid (comm) state ppid ...: comm may hold spaces and parentheses.
            state, ppid = stat.rpartition(")")[2].split()[:2]
            if int(ppid) == pid and state != "Z":
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"  # a zombie holds nothing


def _sessions(settings: Settings) -> int:
    """Connections to the test's database other than this one."""
    assert settings.database_url is not None
    with psycopg.connect(settings.database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    assert row is not None
    return int(row[0])


def _loading(settings: Settings) -> bool:
    """Whether the bulk load has committed rows into its copy of the learning records."""
    like = f"{learning_records.name}{SHADOW}%"
    if settings.database_url:
        with psycopg.connect(settings.database_url, autocommit=True) as pg:
            names = [r[0] for r in pg.execute("SELECT relname FROM pg_class WHERE relname LIKE %s", [like])]
            return any(pg.execute(f'SELECT 1 FROM "{n}" LIMIT 1').fetchone() for n in names)
    with contextlib.closing(sqlite3.connect(settings.readmodels_path)) as lite:
        query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ?"
        names = [r[0] for r in lite.execute(query, [like])]
        return any(lite.execute(f'SELECT 1 FROM "{n}" LIMIT 1').fetchone() for n in names)


def _until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_killed_rebuild_leaves_no_worker_behind(settings: Settings) -> None:
    with contextlib.closing(build_ledger(settings)) as ledger:
        district = District(seed=5, students=80, heavy_events=200)
        load_roster(ledger, district)
        write_batches(ledger, batches(district.events(4_000), 500))
        with ledger.engine.connect() as conn:
            assert conn.execute(select(students.c.student_id)).first() is None  # nothing projected yet
    env = {
        **os.environ,
        "MASTERY_DATA_DIR": str(settings.data_dir),
        "MASTERY_REBUILD_BATCH_SIZE": "20",  # many small chunks: the load takes a while
    }
    if settings.database_url:
        env["MASTERY_DATABASE_URL"] = settings.database_url
    mastery = str(Path(sys.executable).with_name("mastery"))
    rebuild = subprocess.Popen(
        [mastery, "rebuild", "--workers", "2"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    left: set[int] = set()
    try:
        # Mid-load: the workers have committed their first chunks and have more to go.
        assert _until(lambda: _loading(settings), 60), rebuild.poll()
        left = _children(rebuild.pid)
        assert rebuild.poll() is None, "the rebuild finished before it could be killed"
        # Two workers, and the resource tracker of the spawn context.
        assert len(left) >= 3, left
        rebuild.send_signal(signal.SIGKILL)
        rebuild.wait()
        assert _until(lambda: not any(_alive(p) for p in left), 5), [p for p in left if _alive(p)]
        if settings.database_url:
            assert _until(lambda: _sessions(settings) == 0, 5), _sessions(settings)
    finally:  # whatever outlived a failure, not to burden the next tests
        rebuild.kill()
        for pid in left | _children(rebuild.pid):
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


# A parent that starts a worker and prints its pid; the worker arms die_with_parent.
_PARENT = """
import subprocess, sys
worker = subprocess.Popen([sys.executable, "-c", sys.argv[1]])
print(worker.pid, flush=True)
worker.wait()
"""
_WORKER = """
import os, sys, time
if {plain}:
    sys.platform = "plain"  # as on a system without prctl: the watching thread alone
from infra.parent_death import die_with_parent
die_with_parent(os.getppid())
time.sleep(60)
"""


def test_a_worker_ends_with_its_parent_with_or_without_prctl() -> None:
    for plain in (False, True):
        parent = subprocess.Popen(
            [sys.executable, "-c", _PARENT, _WORKER.format(plain=plain)], stdout=subprocess.PIPE, text=True
        )
        assert parent.stdout is not None
        worker = int(parent.stdout.readline())
        time.sleep(0.5)  # armed
        assert _alive(worker)
        parent.kill()
        parent.wait()
        try:
            assert _until(lambda: not _alive(worker), 5), plain  # noqa: B023 (called at once)
        finally:
            if _alive(worker):
                os.kill(worker, signal.SIGKILL)


def test_a_worker_whose_parent_is_already_gone_ends_at_once() -> None:
    code = "from infra.parent_death import die_with_parent; die_with_parent(1); import time; time.sleep(60)"
    assert subprocess.run([sys.executable, "-c", code], check=False, timeout=30).returncode == 1
