"""`mastery demo`: load a deterministic district once, mint reproducible tokens.

The demo shows the school year under way, up to the start of today in the
district's time (the previous year, whole, while the new one has fewer than
15 school days behind it). Its events go in through the backfill path, so
each keeps the time it was recorded and the teacher, student or platform
that recorded it.

Idempotent: a marker in the data dir records what was loaded and on which
day; a second run with the same seed and size reuses the data and prints
the same tokens.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from services.bootstrap import Ledger
from services.demo.calendar import first_day, local, offset_on, school_days
from services.demo.district import District
from services.demo.holders import Holders, choose_holders
from services.demo.load import backfill, load_roster

MARKER = "demo.json"
MIGRATED_BY = "admin:mastery demo"  # who brought the demo's year in (the audit trail's migrated_by)
MIN_DAYS = 15


@dataclass(frozen=True)
class DemoToken:
    role: str
    scopes: tuple[str, ...]
    name: str
    token: str


class DemoMismatchError(Exception):
    """The data dir holds another demo (or real data); loading would mix them."""


def local_date(today: datetime) -> date:
    return today.astimezone(offset_on(today.astimezone(UTC).date(), 720)).date()


def demo_year(today: date) -> int:
    """The school year the demo shows on `today` (named by the year it starts in)."""
    year = today.year if today >= first_day(today.year) else today.year - 1
    if sum(1 for d in school_days(year) if d < today) < MIN_DAYS:
        year -= 1
    return year


def demo_district(students: int, seed: int, today: datetime) -> tuple[District, datetime]:
    """The district and the moment it is cut at: the start of `today`, local time."""
    day = local_date(today)
    district = District(seed=seed, students=students, heavy_events=0, first_year=demo_year(day), years=1)
    return district, local(day, 0)


def prepare(
    ledger: Ledger, data_dir: Path, students: int, seed: int, console: Console
) -> tuple[bool, District, Holders]:
    """Load the demo unless this data dir already holds it. Returns (loaded now?,
    district, who holds its tokens: services/demo/holders.py)."""
    marker = data_dir / MARKER
    wanted = {"seed": seed, "students": students}
    if marker.exists():
        found = json.loads(marker.read_text())
        if {k: found.get(k) for k in wanted} != wanted:
            raise DemoMismatchError(
                f"{data_dir} holds a demo of {found.get('students')} students with seed {found.get('seed')}; "
                "use another --data-dir or remove it"
            )
        district = demo_district(students, seed, datetime.fromisoformat(found["today"]))[0]
        if "holders" in found:
            return False, district, Holders.from_json(found["holders"])
        # A demo loaded before the holders were kept: chosen now, and kept from now on.
        holders = choose_holders(ledger, district)
        marker.write_text(json.dumps({**found, "holders": holders.to_json()}))
        return False, district, holders
    if ledger.store.head_position() > 0:
        raise DemoMismatchError(
            f"{data_dir} holds data but no finished demo (real data, or a demo load that was "
            "interrupted); remove it (make clean) or use another --data-dir"
        )
    today = datetime.now(UTC)
    district, cut = demo_district(students, seed, today)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        schools = len(district.schools())
        console.print(
            f"Rostering {schools} schools, {students} students, {len(district.objective_ids)} objectives; "
            f"the school year {district.first_year}-{(district.first_year + 1) % 100:02d} "
            f"up to {cut.date().isoformat()}"
        )
        load_roster(ledger, district)
        task = bar.add_task("events", total=None)
        events = backfill(
            ledger, district.school_year(cut), MIGRATED_BY, "demo", progress=lambda n: bar.advance(task, n)
        )
        bar.update(task, total=events)
        projecting = bar.add_task("read models", total=ledger.store.head_position())
        ledger.runner.catch_up(lambda n: bar.advance(projecting, n))
    holders = choose_holders(ledger, district)
    # Written last: an interrupted load leaves no marker, and the next run says so.
    marker.write_text(
        json.dumps({**wanted, "today": today.isoformat(), "events": events, "holders": holders.to_json()})
    )
    return True, district, holders


def demo_tokens(ledger: Ledger, district: District, holders: Holders) -> list[DemoToken]:
    """Tokens derived from the seed, so every run of the same demo prints the same ones.

    Their holders (services/demo/holders.py) are people whose views show
    something: the teacher's token is named after that teacher and scoped
    to all of their classes, so what it records reads `teacher:<name>` like
    the year loaded before it. They are secrets only as far as the seed
    is: fine for a demo on loopback, never for real data (real tokens come
    from `mastery token create`).
    """
    student = holders.student
    specs: list[tuple[str, tuple[str, ...], str]] = [
        ("admin", (), "demo admin"),
        ("teacher", tuple(f"class:{c}" for c in holders.teacher_classes), holders.teacher_name),
        ("student", (f"student:{student}",), student),
        ("guardian", tuple(f"student:{s}" for s in holders.guardian_of), f"guardian of {student}"),
        ("leader", (f"school:{holders.leader_school}",), f"leader of {holders.leader_school}"),
        ("auditor", (), "demo auditor"),
        ("analyst", (), "demo analyst"),
    ]
    out = []
    for role, scopes, name in specs:
        digest = hashlib.sha256(f"mastery-demo:{district.seed}:{role}".encode()).hexdigest()[:32]
        token = ledger.tokens.create(role, list(scopes), name, token=f"demo-{role}-{digest}")
        out.append(DemoToken(role, scopes, name, token))
    return out
