"""`mastery demo`: load a deterministic district once, mint reproducible tokens.

Idempotent: a marker in the data dir records what was loaded; a second run
with the same seed and size reuses the data and prints the same tokens.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from services.bootstrap import Ledger
from services.demo.district import District, batches
from services.demo.load import load_roster, write_batches

MARKER = "demo.json"
EVENTS_PER_STUDENT = 60


@dataclass(frozen=True)
class DemoToken:
    role: str
    scopes: tuple[str, ...]
    name: str
    token: str


class DemoMismatchError(Exception):
    """The data dir holds another demo (or real data); loading would mix them."""


def demo_district(students: int, seed: int, today: datetime) -> District:
    """This school year so far: from the last 1 September to yesterday."""
    year = today.year if today.month >= 9 else today.year - 1
    start = datetime(year, 9, 1, 8, 0, tzinfo=UTC)
    span = max(timedelta(days=7), (today - timedelta(days=1)) - start)
    return District(seed=seed, students=students, heavy_events=0, start=start, span=span)


def prepare(
    ledger: Ledger, data_dir: Path, students: int, seed: int, console: Console
) -> tuple[bool, District]:
    """Load the demo unless this data dir already holds it. Returns (loaded now?, district)."""
    marker = data_dir / MARKER
    wanted = {"seed": seed, "students": students}
    if marker.exists():
        found = json.loads(marker.read_text())
        if {k: found.get(k) for k in wanted} != wanted:
            raise DemoMismatchError(
                f"{data_dir} holds a demo of {found.get('students')} students with seed {found.get('seed')}; "
                "use another --data-dir or remove it"
            )
        return False, demo_district(students, seed, datetime.fromisoformat(found["today"]))
    if ledger.store.head_position() > 0:
        raise DemoMismatchError(
            f"{data_dir} holds data but no finished demo (real data, or a demo load that was "
            "interrupted); remove it (make clean) or use another --data-dir"
        )
    today = datetime.now(UTC)
    district = demo_district(students, seed, today)
    total = students * EVENTS_PER_STUDENT
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as bar:
        schools = len(district.schools())
        console.print(f"Rostering {schools} schools, {students} students, {district.objectives} objectives")
        load_roster(ledger, district)
        task = bar.add_task("events", total=total)
        write_batches(
            ledger,
            batches(district.events(total), 1000),
            "ingest:demo-loader",
            lambda n: bar.advance(task, n),
        )
        projecting = bar.add_task("read models", total=ledger.store.head_position())
        ledger.runner.catch_up(lambda n: bar.advance(projecting, n))
    # Written last: an interrupted load leaves no marker, and the next run says so.
    marker.write_text(json.dumps({**wanted, "today": today.isoformat(), "events": total}))
    return True, district


def demo_tokens(ledger: Ledger, district: District) -> list[DemoToken]:
    """Tokens derived from the seed, so every run of the same demo prints the same ones.

    They are secrets only as far as the seed is: fine for a demo on loopback,
    never for real data (real tokens come from `mastery token create`).
    """
    first_class, school, members = district.classes()[0]
    specs: list[tuple[str, tuple[str, ...], str]] = [
        ("admin", (), "demo admin"),
        ("teacher", (f"class:{first_class}",), f"teacher of {first_class}"),
        ("student", (f"student:{members[0]}",), members[0]),
        ("leader", (f"school:{school}",), f"leader of {school}"),
        ("auditor", (), "demo auditor"),
        ("analyst", (), "demo analyst"),
    ]
    out = []
    for role, scopes, name in specs:
        digest = hashlib.sha256(f"mastery-demo:{district.seed}:{role}".encode()).hexdigest()[:32]
        token = ledger.tokens.create(role, list(scopes), name, token=f"demo-{role}-{digest}")
        out.append(DemoToken(role, scopes, name, token))
    return out
