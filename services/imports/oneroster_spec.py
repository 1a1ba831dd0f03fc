"""The parts of the 1EdTech OneRoster 1.2 CSV binding this import reads: the
files, their columns (required or not), and the form of their values.

Only the files a roster needs are read (`FILES`); a manifest may declare the
others (demographics, categories, gradebook files...) and they are left alone.
A column outside the binding is refused unless it is an extension column
(`metadata.` prefix, the binding's own way to extend a file): a misspelt
required column must not pass as an unknown one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class Column:
    name: str
    required: bool = False
    # text (not stored, not checked) | name (stored: a name, a title) | id | ids | enum | date |
    # datetime | year | bool | list
    kind: str = "text"
    values: tuple[str, ...] = ()  # an enumeration's values


def _c(name: str, kind: str = "text", *values: str) -> Column:
    return Column(name, False, kind, values)


def _r(name: str, kind: str = "text", *values: str) -> Column:
    return Column(name, True, kind, values)


STATUS = ("active", "tobedeleted")
_COMMON = (_r("sourcedId", "id"), _c("status", "enum", *STATUS), _c("dateLastModified", "datetime"))
ORG_TYPES = ("department", "school", "district", "local", "state", "national")
SESSION_TYPES = ("gradingPeriod", "semester", "schoolYear", "term")
ENROLMENT_ROLES = ("administrator", "proctor", "student", "teacher")
ROLES = (
    "aide",
    "counselor",
    "districtAdministrator",
    "guardian",
    "parent",
    "principal",
    "proctor",
    "relative",
    "siteAdministrator",
    "student",
    "systemAdministrator",
    "teacher",
)

# file name (without .csv) -> its columns, in the binding's order
FILES: dict[str, tuple[Column, ...]] = {
    "academicSessions": (
        *_COMMON,
        _r("title"),
        _r("type", "enum", *SESSION_TYPES),
        _r("startDate", "date"),
        _r("endDate", "date"),
        _c("parentSourcedId", "id"),
        _r("schoolYear", "year"),
    ),
    "orgs": (
        *_COMMON,
        _r("name", "name"),
        _r("type", "enum", *ORG_TYPES),
        _c("identifier"),
        _c("parentSourcedId", "id"),
    ),
    "courses": (
        *_COMMON,
        _c("schoolYearSourcedId", "id"),
        _r("title", "name"),
        _c("courseCode", "name"),
        _c("grades", "list"),
        _r("orgSourcedId", "id"),
        _c("subjects", "list"),
        _c("subjectCodes", "list"),
    ),
    "classes": (
        *_COMMON,
        _r("title", "name"),
        _c("grades", "list"),
        _r("courseSourcedId", "id"),
        _c("classCode"),
        _r("classType", "enum", "homeroom", "scheduled"),
        _c("location"),
        _r("schoolSourcedId", "id"),
        _r("termSourcedIds", "ids"),
        _c("subjects", "list"),
        _c("subjectCodes", "list"),
        _c("periods", "list"),
    ),
    "users": (
        *_COMMON,
        _r("enabledUser", "bool"),
        _r("username"),
        _c("userIds", "list"),
        _r("givenName", "name"),
        _r("familyName", "name"),
        _c("middleName"),
        _c("identifier"),
        _c("email"),
        _c("sms"),
        _c("phone"),
        _c("agentSourcedIds", "ids"),
        _c("grades", "list"),
        _c("password"),
        _c("userMasterIdentifier"),
        _c("resourceSourcedIds", "ids"),
        _c("preferredGivenName"),
        _c("preferredMiddleName"),
        _c("preferredFamilyName"),
        _c("primaryOrgSourcedId", "id"),
        _c("pronouns"),
    ),
    "roles": (
        *_COMMON,
        _r("userSourcedId", "id"),
        _r("roleType", "enum", "primary", "secondary"),
        _r("role", "enum", *ROLES),
        _c("beginDate", "date"),
        _c("endDate", "date"),
        _r("orgSourcedId", "id"),
        _c("userProfileSourcedId", "id"),
    ),
    "enrollments": (
        *_COMMON,
        _r("classSourcedId", "id"),
        _r("schoolSourcedId", "id"),
        _r("userSourcedId", "id"),
        _r("role", "enum", *ENROLMENT_ROLES),
        _c("primary", "bool"),
        _c("beginDate", "date"),
        _c("endDate", "date"),
    ),
}
MODES = ("bulk", "delta", "absent")
MANIFEST_VERSION = "1.0"
ONEROSTER_VERSION = re.compile(r"1\.2(\.\d+)?")
EXTENSION_PREFIX = "metadata."

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
_YEAR = re.compile(r"\d{4}")
MAX_ID = 128  # the store's own bound on ids (services/inputs.py)
MAX_TEXT = 200  # and on names and titles


def split_list(value: str) -> list[str]:
    """A list field: comma-separated values in one (quoted) CSV field."""
    return [v.strip() for v in value.split(",") if v.strip()]


def value_problem(column: Column, value: str) -> str | None:
    """Why a non-blank `value` does not fit its column, or None."""
    kind = column.kind
    if kind == "enum" and value not in column.values:
        return f"{value!r} is not one of {', '.join(column.values)}"
    if kind == "bool" and value not in ("true", "false"):
        return f"{value!r} is not true or false"
    if kind == "date":
        return _date_problem(value)
    if kind == "datetime":
        if not _DATETIME.fullmatch(value):
            return f"{value!r} is not a date and time with a zone (e.g. 2026-08-01T00:00:00.000Z)"
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return f"{value!r} is not a real date and time"
    if kind == "year" and not _YEAR.fullmatch(value):
        return f"{value!r} is not a year (YYYY)"
    if kind == "name":
        if len(value) > MAX_TEXT:
            return f"{len(value)} characters (this store keeps at most {MAX_TEXT})"
        if not value.isprintable():
            return "holds a control character (a line break, a tab)"
    if kind == "id":
        return id_problem(value)
    if kind == "ids":
        return next((p for v in split_list(value) if (p := id_problem(v))), None)
    return None


def id_problem(value: str) -> str | None:
    if len(value) > MAX_ID:
        return f"an id of {len(value)} characters (at most {MAX_ID})"
    if not value.isprintable() or value != value.strip():
        return f"{value!r} is not a printable id without surrounding spaces"
    return None


def _date_problem(value: str) -> str | None:
    if not _DATE.fullmatch(value):
        return f"{value!r} is not a date (YYYY-MM-DD)"
    try:
        date.fromisoformat(value)
    except ValueError:
        return f"{value!r} is not a real date"
    return None
