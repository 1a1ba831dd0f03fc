"""`python -m bench.oneroster`: the nightly re-sync of a district's roster.

A seeded district in OneRoster 1.2 CSV (default 50,000 students in grades
6-8, four classes each, ~28 to a class) is imported into an empty store,
imported again unchanged, and again with 1 % of its students changed (half
move class, a quarter renamed, a quarter change grade). Each import is timed
beside its floor, measured in the same run: reading and checking the files
alone (no store). The read models are brought up to the log's head before
each timed import, as a serving process keeps them, and that catch-up is
reported on its own.

Why imports compare in bulk: the stored records an import compares with are
read many streams a query (infra/stream_reads.py). The library's repository
reads one stream a query; both are timed here on the same profiles.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from bench.stores import fresh_store
from domain.ids import profile_stream
from infra.stream_reads import select_streams
from services.bootstrap import Ledger, build_ledger
from services.imports.oneroster import RosterImporter
from services.imports.oneroster_files import open_source, read_bundle
from services.imports.oneroster_spec import FILES

RESULTS = Path(__file__).parent / "results"
GIVEN = [
    "Ana",
    "Ben",
    "Chloé",
    "Dev",
    "Emma",
    "Finn",
    "Grace",
    "Hugo",
    "Iris",
    "Jamal",
    "Kenji",
    "Lena",
    "Mateo",
]
FAMILY = [
    "García",
    "Okafor",
    "Dubois",
    "Patel",
    "Lindqvist",
    "Murphy",
    "Nguyen",
    "Kowalski",
    "Haddad",
    "Silva",
]
SUBJECTS = ["Mathematics", "Science", "English", "History"]
PER_CLASS = 28
PER_SCHOOL = 500


def district(students: int, seed: int) -> dict[str, list[list[str]]]:
    """Rows by file (without headers), in the binding's column order."""
    rng = random.Random(seed)
    schools = max(1, students // PER_SCHOOL)
    rows: dict[str, list[list[str]]] = {name: [] for name in FILES}
    blank = {name: [""] * len(cols) for name, cols in FILES.items()}

    def row(file: str, **values: str) -> None:
        r = list(blank[file])
        for i, col in enumerate(FILES[file]):
            r[i] = values.get(col.name, "")
        rows[file].append(r)

    row("academicSessions", sourcedId="sy", title="2026-2027", type="schoolYear", startDate="2026-08-17",
        endDate="2027-06-04", schoolYear="2027")  # fmt: skip
    row("orgs", sourcedId="dist", name="Bench District", type="district")
    for s in range(schools):
        sch = f"sch-{s:03}"
        row("orgs", sourcedId=sch, name=f"School {s}", type="school", parentSourcedId="dist")
        for subject in SUBJECTS:
            for g in (6, 7, 8):
                row("courses", sourcedId=f"crs-{sch}-{subject[:3]}{g}", title=f"{subject} {g}",
                    courseCode=f"{subject[:3].upper()}{g}", orgSourcedId=sch)  # fmt: skip
        mine = [f"stu-{n:06}" for n in range(s * PER_SCHOOL, min(students, (s + 1) * PER_SCHOOL))]
        for i, sid in enumerate(mine):
            grade = 6 + i % 3
            row("users", sourcedId=sid, enabledUser="true", username=sid, givenName=rng.choice(GIVEN),
                familyName=rng.choice(FAMILY), grades=f"{grade:02}", primaryOrgSourcedId=sch)  # fmt: skip
            row("roles", sourcedId=f"rol-{sid}", userSourcedId=sid, roleType="primary", role="student",
                orgSourcedId=sch)  # fmt: skip
        for g in (6, 7, 8):
            cohort = [sid for i, sid in enumerate(mine) if 6 + i % 3 == g]
            for subject in SUBJECTS:
                order = rng.sample(cohort, len(cohort))
                for k in range(0, len(order), PER_CLASS):
                    cid = f"cls-{sch}-{subject[:3]}{g}-{k // PER_CLASS}"
                    tid = f"tch-{sch}-{subject[:3]}{g}-{k // (PER_CLASS * 5)}"
                    row("classes", sourcedId=cid, title=f"{subject} {g} ({k // PER_CLASS + 1})",
                        courseSourcedId=f"crs-{sch}-{subject[:3]}{g}", classType="scheduled",
                        schoolSourcedId=sch, termSourcedIds="sy")  # fmt: skip
                    for uid, role in [(tid, "teacher")] + [(u, "student") for u in order[k : k + PER_CLASS]]:
                        row("enrollments", sourcedId=f"enr-{cid}-{uid}", classSourcedId=cid,
                            schoolSourcedId=sch, userSourcedId=uid, role=role)  # fmt: skip
    who, what = _index("enrollments", "userSourcedId"), _index("enrollments", "role")
    teachers = sorted({r[who] for r in rows["enrollments"] if r[what] == "teacher"})
    for tid in teachers:
        sch = tid.split("-")[1] + "-" + tid.split("-")[2]
        row("users", sourcedId=tid, enabledUser="true", username=tid, givenName="Teacher", familyName=tid,
            primaryOrgSourcedId=sch)  # fmt: skip
        row(
            "roles",
            sourcedId=f"rol-{tid}",
            userSourcedId=tid,
            roleType="primary",
            role="teacher",
            orgSourcedId=sch,
        )
    return rows


def change_one_percent(rows: dict[str, list[list[str]]], seed: int) -> int:
    """1 % of the students changed in place: half move class (swapping with a
    class-mate's place in another class of the same subject and grade), a
    quarter renamed, a quarter a grade up. Returns how many."""
    rng = random.Random(seed + 1)
    users = [r for r in rows["users"] if r[0].startswith("stu-")]
    chosen = rng.sample(users, max(1, len(users) // 100))
    enrol = rows["enrollments"]
    by_class: dict[str, list[list[str]]] = {}
    first_of: dict[str, list[str]] = {}  # a student's first enrolment
    for r in enrol:
        by_class.setdefault(r[3], []).append(r)
        first_of.setdefault(r[5], r)
    given, grades = _index("users", "givenName"), _index("users", "grades")
    for n, user in enumerate(chosen):
        if n % 4 == 0:
            user[given] = user[given] + "-Marie"
        elif n % 4 == 1:
            user[grades] = f"{int(user[grades]) + 1:02}"
        else:
            mine = first_of[user[0]]
            siblings = [
                c for c in by_class if c.rsplit("-", 1)[0] == mine[3].rsplit("-", 1)[0] and c != mine[3]
            ]
            if siblings:
                target = rng.choice(siblings)
                mine[3] = target
                mine[0] = f"enr-{target}-{user[0]}"
    return len(chosen)


def _index(file: str, name: str) -> int:
    return [c.name for c in FILES[file]].index(name)


def write(rows: dict[str, list[list[str]]], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    manifest = [["manifest.version", "1.0"], ["oneroster.version", "1.2"]]
    manifest += [[f"file.{name}", "bulk"] for name in FILES]
    for name, body in [("manifest", manifest), *rows.items()]:
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["propertyName", "value"] if name == "manifest" else [c.name for c in FILES[name]])
            w.writerows(body)


def zip_size(folder: Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(folder.iterdir()):
            z.write(f, f.name)
    return len(buffer.getvalue())


@contextmanager
def _store(backend: str, root: Path) -> Iterator[Ledger]:
    with fresh_store(backend, root / "store") as settings, closing(build_ledger(settings)) as ledger:
        yield ledger


def _timed_import(ledger: Ledger, folder: Path) -> dict[str, Any]:
    started = time.perf_counter()
    ledger.runner.catch_up()
    caught_up = time.perf_counter() - started
    importer = RosterImporter(ledger.store, ledger.engine, ledger.keys, lambda: None)
    started, cpu = time.perf_counter(), time.process_time()
    summary = importer.run(folder)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    started = time.perf_counter()
    open_source(folder)  # the floor: reading and checking the same files, no store
    read_bundle(open_source(folder))
    floor = time.perf_counter() - started
    # This process's CPU time beside the wall clock: the machine is shared,
    # and a loaded one stretches the wall clock (the database's own time is
    # in the wall clock only).
    return {"seconds": seconds, "cpu_seconds": cpu, "floor_seconds": floor, "ratio": floor / seconds,
            "events": summary.events, "catch_up_seconds": caught_up,
            "summary": summary.as_json()}  # fmt: skip


def _reads(ledger: Ledger, student_ids: list[str]) -> dict[str, float]:
    sample = student_ids[:2000]
    started = time.perf_counter()
    for sid in sample:
        ledger.store.repository.get(profile_stream(sid))
    one_by_one = time.perf_counter() - started
    started = time.perf_counter()
    select_streams(ledger.store.indexed, [profile_stream(s) for s in sample])
    bulk = time.perf_counter() - started
    return {"profiles": len(sample), "one_by_one_seconds": one_by_one, "bulk_seconds": bulk,
            "ratio": one_by_one / bulk}  # fmt: skip


def run(backend: str, students: int, seed: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rows = district(students, seed)
        write(rows, root / "day1")
        changed = change_one_percent(rows, seed)
        write(rows, root / "day2")
        out: dict[str, Any] = {"students": students, "rows": {k: len(v) for k, v in rows.items()},
                               "zip_bytes": zip_size(root / "day1"), "changed_students": changed}  # fmt: skip
        with _store(backend, root) as ledger:
            out["first"] = _timed_import(ledger, root / "day1")
            out["unchanged"] = _timed_import(ledger, root / "day1")
            out["one_percent"] = _timed_import(ledger, root / "day2")
            out["reads"] = _reads(ledger, [r[0] for r in rows["users"] if r[0].startswith("stu-")])
        return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.oneroster", description=__doc__)
    p.add_argument("--students", type=int, default=50_000)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--backend", choices=("postgres", "sqlite"), action="append", help="default both")
    p.add_argument("--smoke", action="store_true", help="500 students: the test suite runs it")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    students = 500 if args.smoke else args.students
    runs = {b: run(b, students, args.seed) for b in (args.backend or ["postgres", "sqlite"])}
    for backend, r in runs.items():
        print(f"{backend}: {students:,} students, {r['rows']['enrollments']:,} enrolments, "
              f"zip {r['zip_bytes'] / 2**20:.1f} MiB")  # fmt: skip
        for stage in ("first", "unchanged", "one_percent"):
            s = r[stage]
            print(f"  {stage:<12} {s['seconds']:7.2f} s (cpu {s['cpu_seconds']:.2f} s) "
                  f"{s['events']:>7,} events  "
                  "floor (read+check files) "
                  f"{s['floor_seconds']:.2f} s = {100 * s['ratio']:.0f} %  (catch-up before: "
                  f"{s['catch_up_seconds']:.2f} s)")  # fmt: skip
        reads = r["reads"]
        print(f"  {reads['profiles']:,} profiles one stream a query {reads['one_by_one_seconds']:.2f} s, "
              f"in bulk {reads['bulk_seconds']:.3f} s ({reads['ratio']:.0f}x)")  # fmt: skip
    out = args.out or RESULTS / ("oneroster-smoke.json" if args.smoke else "oneroster.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "runs": runs}, indent=2)
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
