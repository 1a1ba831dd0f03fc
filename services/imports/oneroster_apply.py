"""The plan against the stored roster: the events that make the store hold
the plan (only what differs), and the count of what was created, changed,
left unchanged and removed, by kind.

A membership change is the class's own event (StudentsEnrolled,
StudentsUnenrolled, TeachersChanged): a student who moves class leaves one
and joins another, and their learning stream is untouched.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from eventsourcing.domain import Aggregate

from domain.profile import StudentProfile
from domain.roster import School, SchoolClass
from infra.eventstore import LedgerStore
from infra.keys import NAME_CONTEXT, StudentKeys
from infra.sealing import SealBroken
from services.imports.oneroster_plan import Plan
from services.imports.roster_state import StoredRoster, load_profiles

KINDS = ("schools", "students", "teachers", "classes", "enrolments")


@dataclass
class Counts:
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0


@dataclass
class Summary:
    files: dict[str, str]  # file -> bulk | delta | absent, as the manifest says
    kinds: dict[str, Counts] = field(default_factory=lambda: {k: Counts() for k in KINDS})
    ignored_users: int = 0  # users that are neither students nor teachers
    erased_students: int = 0  # listed, but erased here: their profile is left as the erasure left it
    events: int = 0
    position: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            **{k: asdict(c) for k, c in self.kinds.items()},
            "ignored_users": self.ignored_users,
            "erased_students": self.erased_students,
            "events": self.events,
            "position": self.position,
            "files": self.files,
        }


def changes(
    plan: Plan, stored: StoredRoster, store: LedgerStore, keys: StudentKeys, summary: Summary
) -> list[Aggregate]:
    """The aggregates with events pending: new ones, and stored ones revised."""
    out: list[Aggregate] = []
    count = summary.kinds
    for sid, name in sorted(plan.schools.items()):
        school = stored.schools.get(sid)
        if school is None:
            out.append(School(school_id=sid, name=name))
            count["schools"].created += 1
        else:
            school.rename(name)
            _tally(count["schools"], school, out)
    out += _students(plan, stored, store, keys, summary)
    out += _classes(plan, stored, summary)
    return out


def _tally(counts: Counts, aggregate: Aggregate, out: list[Aggregate]) -> None:
    if aggregate.pending_events:
        counts.changed += 1
        out.append(aggregate)
    else:
        counts.unchanged += 1


def _students(
    plan: Plan, stored: StoredRoster, store: LedgerStore, keys: StudentKeys, summary: Summary
) -> list[Aggregate]:
    counts = summary.kinds["students"]
    listed = set(plan.students)
    rows = {u: stored.profiles[u] for u in listed & set(stored.profiles) if u not in stored.legacy}
    reading = keys.for_reading(rows)
    renamed, changed = set(), []
    for uid, row in rows.items():
        key, want = reading.get(uid), plan.students[uid]
        if key is None:
            continue  # erased: its profile is left as the erasure left it
        try:
            same = key.open(row.sealed_name, NAME_CONTEXT) == want.name
        except SealBroken:
            same = False  # a seal that no longer opens is sealed again under the student's key
        if not same:
            renamed.add(uid)
        if same and (row.grade, row.school_id) == (want.grade, want.school_id):
            counts.unchanged += 1
        else:
            changed.append(uid)
    new = listed - set(rows)  # never rostered, or rostered before profiles had streams of their own
    sealing, erased = keys.for_writing(sorted(renamed | new))
    erased |= {u for u in rows if u not in reading}
    summary.erased_students = len(erased)
    profiles = load_profiles(store, (u for u in changed if u not in erased))
    out: list[Aggregate] = []
    for uid in sorted(new - erased):
        want = plan.students[uid]
        sealed = sealing[uid].seal(want.name, NAME_CONTEXT)
        out.append(
            StudentProfile(student_id=uid, sealed_name=sealed, grade=want.grade, school_id=want.school_id)
        )
        counts.changed += uid in stored.legacy  # not new: only its profile stream is
        counts.created += uid not in stored.legacy
    for uid, profile in sorted(profiles.items()):
        want = plan.students[uid]
        seal = sealing[uid].seal(want.name, NAME_CONTEXT) if uid in renamed else None
        profile.change(seal, want.grade, want.school_id)
        _tally(counts, profile, out)
    return out


def _classes(plan: Plan, stored: StoredRoster, summary: Summary) -> list[Aggregate]:
    count = summary.kinds
    out: list[Aggregate] = []
    teachers_before, teachers_after = stored.teachers(), set()
    unenrolled: set[str] = set()
    for cid in sorted(plan.members):
        teachers, students = plan.members[cid]
        teachers_after.update(teachers)
        want = plan.classes.get(cid)
        c = stored.classes.get(cid)
        old_t, old_s = (list(c.teacher_ids), list(c.student_ids)) if c else ([], [])
        if c is None:
            assert want is not None  # every class planned is stored or in the file
            c = SchoolClass(class_id=cid, name=want.name, school_id=want.school_id, teacher_ids=teachers,
                            student_ids=students)  # fmt: skip
            if want.course:
                c.assign_course(want.course)
            count["classes"].created += 1
            out.append(c)
        else:
            details = want is not None and (
                (want.name, want.school_id) != (c.name, c.school_id) or (want.course or c.course) != c.course
            )
            if want is not None:
                c.revise(want.name, want.school_id, teachers, students)
                if want.course:
                    c.assign_course(want.course)
            else:
                c.revise(c.name, c.school_id, teachers, students)
            if cid in plan.removed_classes:
                count["classes"].removed += bool(old_t or old_s)
                count["classes"].unchanged += not (old_t or old_s)
            elif details:
                count["classes"].changed += 1
            else:
                count["classes"].unchanged += 1
            if c.pending_events:
                out.append(c)
        before = {(t, "t") for t in old_t} | {(s, "s") for s in old_s}
        after = {(t, "t") for t in teachers} | {(s, "s") for s in students}
        enrolments = count["enrolments"]
        enrolments.created += len(after - before)
        enrolments.removed += len(before - after)
        enrolments.unchanged += len(before & after)
        unenrolled.update(s for s in old_s if s not in students)
    count["teachers"].created = len(teachers_after - teachers_before)
    count["teachers"].removed = len(teachers_before - teachers_after)
    count["teachers"].unchanged = len(teachers_before & teachers_after)
    count["students"].removed = len(unenrolled & plan.removed_users)
    return out
