"""What the roster and catalog kinds contain, read from the read models a page at a time.

* roster: one row per student, with every class the student is enrolled in
  (lists of class ids, names and OneRoster courses, in class-id order), so a join with the
  events or mastery kinds on `student_id` gives one row per row. A student in
  no class has empty lists. The name is opened with the student's key,
  `[erased]` after an erasure, and absent (null) from a pseudonymised export.
* objectives: one row per objective, with the rule in force at the export's
  start (the latest version effective by then, as known then; before its
  first version takes effect, the first), its threshold on the 0-1 scale of
  the `score` column, and the whole rule as JSON.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Engine, select

from domain.rules.assessment import threshold_value
from domain.rules.model import Rule
from domain.rules.versions import RuleVersion, rule_in_force
from infra.keys import Opener, StudentKeys
from infra.readmodels import classes, enrolments, objectives, schools, students
from services.export.columns import Batch
from services.export.filters import Filters
from services.export.lookups import PAGE, Roster
from services.export.redaction import Redaction


def roster_batches(
    read_models: Engine, keys: StudentKeys, filters: Filters, redaction: Redaction | None
) -> Iterator[Batch]:
    s, e, c = students.c, enrolments.c, classes.c
    for page in Roster(read_models).student_pages(filters.schools):
        with read_models.connect() as conn:
            found = conn.execute(
                select(s.student_id, s.name, s.grade, s.school_id, schools.c.name)
                .outerjoin(schools, schools.c.school_id == s.school_id)
                .where(s.student_id.in_(page))
                .order_by(s.student_id)
            ).all()
            member: dict[str, list[tuple[str, str, str | None, str | None]]] = {}
            q = (
                select(e.student_id, e.class_id, c.name, c.course_id, c.course_title)
                .join(classes, c.class_id == e.class_id)
                .where(e.student_id.in_(page))
                .order_by(e.class_id)
            )
            for sid, cid, cname, course_id, course_title in conn.execute(q):
                member.setdefault(sid, []).append((cid, cname, course_id, course_title))
        found_keys = keys.for_reading(page) if redaction is None else {}
        rows: Batch = []
        for sid, sealed_name, grade, school_id, school_name in found:
            enrolled = member.get(sid, [])
            rows.append(
                {
                    "student_id": sid if redaction is None else redaction.pseudonym(sid),
                    "name": Opener(found_keys.get(sid)).name(sealed_name) if redaction is None else None,
                    "grade": grade,
                    "school_id": school_id,
                    "school_name": school_name,
                    "class_ids": [c[0] for c in enrolled],
                    "class_names": [c[1] for c in enrolled],
                    "class_course_ids": [c[2] for c in enrolled],
                    "class_course_titles": [c[3] for c in enrolled],
                }
            )
        yield rows


def objective_batches(read_models: Engine, at: datetime) -> Iterator[Batch]:
    o = objectives.c
    last = ""
    while True:
        with read_models.connect() as conn:
            found = conn.execute(
                select(objectives).where(o.objective_id > last).order_by(o.objective_id).limit(PAGE)
            ).all()
        if not found:
            return
        yield [_objective_row(row._mapping, at) for row in found]
        last = found[-1].objective_id


def _objective_row(m: Any, at: datetime) -> dict[str, Any]:
    # The read model keeps every version with when it was recorded: those known at `at` count.
    versions = [
        RuleVersion(
            int(v["version"]),
            Rule.model_validate(v["rule"]),
            datetime.fromisoformat(v["effective_from"]),
            datetime.fromisoformat(v["recorded_at"]),
        )
        for v in m["rule_versions"]
    ]
    current = rule_in_force([v for v in versions if v.recorded_at <= at], at)
    rule = current.rule if current is not None else None
    return {
        "objective_id": m["objective_id"],
        "statement": m["statement"],
        "subject": m["subject"],
        "course": m["course"],
        "unit": m["unit"],
        "sequence": m["sequence"],
        "prerequisites": list(m["prerequisites"]),
        "rule_version": current.version if current is not None else None,
        "rule_effective_from": current.effective_from if current is not None else None,
        "threshold_kind": rule.threshold.kind if rule is not None else None,
        "threshold": threshold_value(rule) if rule is not None else None,
        "method": rule.calculation.method if rule is not None else None,
        "rule": orjson.dumps(rule.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS).decode()
        if rule is not None
        else None,
    }
