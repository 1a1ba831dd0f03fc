"""Who the demo's printed tokens belong to: people whose views have something to show.

Chosen from what was loaded (the read models), once, when the demo is
loaded, and kept in the data dir's marker: a reflection written in the demo
afterwards would change what "waiting" means, but a second run must print
the same tokens with the same scopes (a token keeps the scopes it was minted
with).

* the student: a retake waiting for a reflection and an override in their
  history (the tracker's retakes section and the audit's OVERRIDE), and a
  goal where such a student has one;
* the guardian: of that student and two more of the same school, in other
  grades where there are (siblings), preferring ones with retakes waiting;
* the teacher: of the classes with the most open contradictions with
  benchmarks (the tracker's contradictions, its explains), all of that
  teacher's classes in scope;
* the leader: of a school with a class under the suppression threshold
  (a suppressed cell on the school's page), else the roster's first school.
"""

from __future__ import annotations

import collections
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select

from infra.readmodels import contradictions, learning_records
from services.bootstrap import Ledger
from services.demo.district import District
from services.demo.roster import Section

SUPPRESSED_UNDER = 10  # services/query/summaries.py MIN_CELL_SIZE, not imported: services stay apart


@dataclass(frozen=True)
class Holders:
    student: str
    guardian_of: tuple[str, ...]
    teacher_classes: tuple[str, ...]
    teacher_name: str
    leader_school: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Holders:
        return cls(
            data["student"],
            tuple(data["guardian_of"]),
            tuple(data["teacher_classes"]),
            data["teacher_name"],
            data["leader_school"],
        )


def _corrections(ledger: Ledger) -> tuple[collections.Counter[str], set[str], set[str]]:
    """(retakes waiting for a reflection, per student; students with a live
    override; students with a goal)."""
    lr = learning_records
    with ledger.reader.connect() as conn:
        rows = conn.execute(select(lr.c.event_id, lr.c.student_id, lr.c.record_type, lr.c.body)).all()
    voided = {r.body["target_event_id"] for r in rows if r.record_type == "void"}
    live = [r for r in rows if r.event_id not in voided and r.record_type != "void"]
    reflected = {(r.student_id, r.body["on_event"]) for r in live if r.record_type == "reflection"}
    waiting = collections.Counter(
        r.student_id
        for r in live
        if r.record_type == "retake" and (r.student_id, r.body["retake_of"]) not in reflected
    )
    overridden = {r.student_id for r in live if r.record_type == "override"}
    goals = {r.student_id for r in live if r.record_type == "goal"}
    return waiting, overridden, goals


def _open_contradictions(ledger: Ledger) -> collections.Counter[str]:
    c = contradictions
    with ledger.reader.connect() as conn:
        rows = conn.execute(select(c.c.student_id).where(c.c.resolved_at.is_(None))).all()
    return collections.Counter(r.student_id for r in rows)


def choose_holders(ledger: Ledger, district: District) -> Holders:
    sections = district.roster.sections
    section_of = district.roster.section_of()
    waiting, overridden, goals = _corrections(ledger)
    order = {s: n for n, s in enumerate(section_of)}

    # A goal too where one has it (the tracker's goal and chart then say whether it is on track).
    both = sorted((s for s in section_of if waiting[s] and s in overridden), key=lambda s: s not in goals)
    student = both[0] if both else max(section_of, key=lambda s: (s in overridden, waiting[s], -order[s]))
    school = section_of[student].school_id

    # Siblings: the same school, other grades first, retakes waiting first.
    others = [s for s in section_of if s != student and section_of[s].school_id == school]
    others.sort(key=lambda s: (section_of[s].grade == section_of[student].grade, not waiting[s], order[s]))
    guardian_of = (student, *others[:2])

    contradicted = _open_contradictions(ledger)
    by_teacher: dict[str, list[Section]] = collections.defaultdict(list)
    for sec in sections:
        by_teacher[sec.teacher.teacher_id].append(sec)

    def weight(secs: list[Section]) -> int:
        return sum(contradicted[m] for sec in secs for m in sec.members)

    taught = max(by_teacher.values(), key=weight)  # the first such teacher on a tie (dicts keep order)

    small = [sec.school_id for sec in sections if len(sec.members) < SUPPRESSED_UNDER]
    regular = {sec.school_id for sec in sections if len(sec.members) >= SUPPRESSED_UNDER}
    leader_school = next((s for s in small if s in regular), sections[0].school_id)
    return Holders(
        student=student,
        guardian_of=guardian_of,
        teacher_classes=tuple(sec.class_id for sec in taught),
        teacher_name=taught[0].teacher.name,
        leader_school=leader_school,
    )
