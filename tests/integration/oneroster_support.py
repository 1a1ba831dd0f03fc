"""What the OneRoster import tests share: the fixture bundles (bulk and delta,
written from the 1EdTech OneRoster 1.2 CSV binding), a bundle zipped, an
import run, its counts, the roster as the read models hold it, and a broken
bundle with every problem it holds."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy import select

from infra.keys import Opener
from infra.readmodels import classes, enrolments, schools, students
from services.bootstrap import Ledger
from services.imports.oneroster import RosterImporter

FIXTURES = Path(__file__).parents[1] / "fixtures" / "oneroster"


BULK, DELTA = FIXTURES / "bulk", FIXTURES / "delta"


ZIP = {"content-type": "application/zip"}


def zipped(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(folder.iterdir()):
            z.write(f, f.name)
    return buffer.getvalue()


def run(ledger: Ledger, source: Path | bytes) -> dict[str, Any]:
    importer = RosterImporter(ledger.store, ledger.engine, ledger.keys, ledger.runner.catch_up)
    return importer.run(source).as_json()


def counts(summary: dict[str, Any]) -> dict[str, tuple[int, int, int, int]]:
    kinds = ("schools", "students", "teachers", "classes", "enrolments")
    return {k: tuple(summary[k][c] for c in ("created", "changed", "unchanged", "removed")) for k in kinds}


def roster(ledger: Ledger) -> dict[str, Any]:
    """The roster as the read models hold it, names opened."""
    ledger.runner.catch_up()  # (the `ledger` fixture runs no projections of its own)
    with ledger.engine.connect() as conn:
        school_rows = dict(conn.execute(select(schools.c.school_id, schools.c.name)).all())
        student_rows = conn.execute(select(students)).mappings().all()
        class_rows = conn.execute(select(classes)).mappings().all()
        members = conn.execute(select(enrolments.c.class_id, enrolments.c.student_id)).all()
    keys = ledger.keys.for_reading(r["student_id"] for r in student_rows)
    return {
        "schools": school_rows,
        "students": {
            r["student_id"]: (Opener(keys.get(r["student_id"])).name(r["name"]), r["grade"], r["school_id"])
            for r in student_rows
        },
        "classes": {
            r["class_id"]: (
                r["name"],
                r["school_id"],
                r["teacher_ids"],
                sorted(s for c, s in members if c == r["class_id"]),
            )
            for r in class_rows
        },
    }


BULK_ROSTER = {
    "schools": {"sch-lincoln": "Lincoln Middle School", "sch-oak": "Oak Street Elementary"},
    "students": {
        "stu-ana": ("Ana García", "7", "sch-lincoln"),
        "stu-ben": ("Ben Okafor", "7", "sch-lincoln"),
        "stu-chloe": ("Chloé Dubois", "7", "sch-lincoln"),
        "stu-dev": ("Dev Patel", "7", "sch-lincoln"),
        "stu-emma": ("Emma Lindqvist", "3", "sch-oak"),
    },
    "classes": {
        "cls-math7-p1": ("Mathematics 7 - Period 1", "sch-lincoln", ["tch-rivera"], ["stu-ana", "stu-ben"]),
        "cls-math7-p2": ("Mathematics 7 - Period 2", "sch-lincoln", ["tch-rivera"], ["stu-chloe", "stu-dev"]),
        "cls-sci7-p3": (
            "Life Science 7 - Period 3",
            "sch-lincoln",
            ["tch-chen"],
            ["stu-ana", "stu-ben", "stu-chloe", "stu-dev"],
        ),
        "cls-read3-hr": ("Room 12 Reading", "sch-oak", ["tch-brown"], ["stu-emma"]),
    },
}


def drop_lines(file: Path, *needles: str) -> None:
    lines = file.read_text(encoding="utf-8").splitlines(keepends=True)
    file.write_text("".join(li for li in lines if not any(n in li for n in needles)), encoding="utf-8")


def rewrite_in(file: Path, old: str, new: str) -> None:
    file.write_text(file.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def broken_bundle(tmp_path: Path) -> Path:
    folder = tmp_path / "broken"
    shutil.copytree(BULK, folder)
    rewrite_in(folder / "classes.csv", "scheduled,Lab 2", "lecture,Lab 2")
    rewrite_in(folder / "classes.csv", "crs-read3,READ3-HR", "crs-art3,READ3-HR")
    rewrite_in(folder / "classes.csv", "Room 12 Reading", "Room 12\tReading")
    rewrite_in(folder / "users.csv", "true,ben.okafor", "yes,ben.okafor")
    rewrite_in(folder / "users.csv", "Emma,Lindqvist", ",Lindqvist")
    rewrite_in(
        folder / "users.csv",
        "{SIS:10043},Chloé,Dubois,,10043,chloe.dubois@maple.example,,,,07",
        "{SIS:10043},Chloé,Dubois,,10043,chloe.dubois@maple.example,,,,",
    )
    rewrite_in(folder / "enrollments.csv", "sch-lincoln,stu-dev,student", "sch-lincoln,stu-zed,student")
    rewrite_in(folder / "enrollments.csv", "enr-r-emma,,", "enr-r-emma,tobedeleted,")
    rewrite_in(
        folder / "enrollments.csv",
        "false,2026-08-17,2026-12-18\nenr-m2-rivera",
        "false,2026-02-30,2026-12-18\nenr-m2-rivera",
    )
    with (folder / "orgs.csv").open("a", encoding="utf-8") as f:
        f.write("sch-oak,,,Oak Street Annex,school,0208,dist-maple\n")
    with (folder / "academicSessions.csv").open("a", encoding="utf-8") as f:
        f.write("term-spring-2027,,,Spring 2027,term,2027-01-04\n")
    return folder  # fmt: skip


BROKEN = [  # file by file, line by line: what a district fixes its export from
    "academicSessions.csv, line 4: 6 fields where the header has 9",
    "orgs.csv, line 5, column sourcedId: 'sch-oak' is also on line 4",
    "classes.csv, line 4, column classType: 'lecture' is not one of homeroom, scheduled",
    "classes.csv, line 5, column title: holds a control character (a line break, a tab)",
    "classes.csv, line 5, column courseSourcedId: course 'crs-art3' is not in courses.csv",
    "users.csv, line 3, column enabledUser: 'yes' is not true or false",
    "users.csv, line 4, column grades: blank, but a student needs a grade in this store",
    "users.csv, line 6, column givenName: blank, but required",
    "enrollments.csv, line 4, column beginDate: '2026-02-30' is not a real date",
    "enrollments.csv, line 7, column userSourcedId: unknown user 'stu-zed'",
    "enrollments.csv, line 12, column userSourcedId: unknown user 'stu-zed'",
    "enrollments.csv, line 14, column status: a bulk file lists what exists: tobedeleted belongs in a "
    "delta file",
]
