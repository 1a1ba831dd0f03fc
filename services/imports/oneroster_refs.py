"""The references between a OneRoster bundle's files, and to the store: each
one names something that exists (a school, a class, a user, a course, a
session), or the whole bundle is refused with the line that names nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.imports.oneroster_spec import split_list

if TYPE_CHECKING:
    from services.imports.oneroster_plan import Planner


def check_references(p: Planner) -> None:
    for rows, column, target in (
        (p.orgs, "parentSourcedId", p.orgs),
        (p.sessions, "parentSourcedId", p.sessions),
        (p.courses, "schoolYearSourcedId", p.sessions),
        (p.courses, "orgSourcedId", p.orgs),
        (p.roles, "orgSourcedId", p.orgs),
    ):
        for sid in rows.active:
            ref = rows.get(sid, column)
            if ref and not (p.knows(target, ref) or p.is_school(ref)):
                p.problem(
                    rows, rows.line(sid), column, f"{ref!r} is in no {target.table and target.table.file}"
                )
    for sid in p.roles.active:
        uid = p.roles.get(sid, "userSourcedId")
        if uid not in p.users.active and not _stored_user(p, uid):
            p.problem(p.roles, p.roles.line(sid), "userSourcedId", f"unknown user {uid!r}")
    for uid in p.users.active:
        org = p.users.get(uid, "primaryOrgSourcedId")
        if org and not (p.knows(p.orgs, org) or p.is_school(org)):
            p.problem(p.users, p.users.line(uid), "primaryOrgSourcedId", f"unknown org {org!r}")
    for cid in p.classes.active:
        c, line = p.classes, p.classes.line(cid)
        if not p.is_school(school := c.get(cid, "schoolSourcedId")):
            p.problem(c, line, "schoolSourcedId", f"{school!r} is not a school in orgs.csv or the store")
        for term in split_list(c.get(cid, "termSourcedIds")):
            if not p.knows(p.sessions, term):
                p.problem(c, line, "termSourcedIds", f"{term!r} is not in academicSessions.csv")
    _check_enrolments(p)


def _stored_user(p: Planner, uid: str) -> bool:
    if p.users.mode == "bulk" or uid in p.users.deleted:
        return False
    return p.stored.is_student(uid) or uid in p.stored_teachers


def _check_enrolments(p: Planner) -> None:
    for uid, rows in p.enrolled.items():
        known = uid in p.users.active or _stored_user(p, uid)
        kind = p.kind(uid) if known else None
        for cid, role, school, line in rows:
            if not known:
                p.problem(p.enrolments, line, "userSourcedId", f"unknown user {uid!r}")
            elif role in ("student", "teacher") and kind != role:
                p.problem(p.enrolments, line, "role", f"{uid!r} is enrolled as a {role}, but is a {kind}")
            if cid in p.classes.active:
                class_school = p.classes.get(cid, "schoolSourcedId")
            elif cid in p.stored.classes and cid not in p.classes.deleted and p.classes.mode != "bulk":
                class_school = p.stored.classes[cid].school_id
            else:
                p.problem(p.enrolments, line, "classSourcedId", f"unknown class {cid!r}")
                continue
            if school != class_school:
                p.problem(p.enrolments, line, "schoolSourcedId",
                             f"{school!r}, but class {cid!r} is at {class_school!r}")  # fmt: skip
