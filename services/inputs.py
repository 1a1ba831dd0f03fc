"""The input rules (docs/input-rules.md) as annotated types, for every request
body, path parameter and query parameter.

One rule for each kind of value wherever it comes in: an id in a path is
checked as an id in a body is. What they refuse is what a store cannot hold or
a projection cannot apply (U+0000 in PostgreSQL text, an integer beyond int4
or beyond 64 bits, NaN), or what would read back as something else (a
number read as a 1970 time, an id with a trailing space that no event can
name). Refused, never silently repaired: an id is not stripped.

Cheap on purpose: a batch of 5,000 events goes through these. Length and
range limits are pydantic constraints, text and times are checked by a Rust
regex inside pydantic-core; only ids call into Python (`str.isprintable`, in C).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import AfterValidator, Field, GetCoreSchemaHandler, StringConstraints
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from domain.limits import NO_CONTROL, NO_CONTROL_PATTERN

# --- ids --------------------------------------------------------------------

MAX_ID = 128


def _printable_id(value: str) -> str:
    # isprintable is False for control (Cc), format (Cf, e.g. U+202E), private
    # use, unassigned and surrogate code points and for every separator but
    # the ASCII space: what an id would hide or reorder on a screen.
    if not value.isprintable():
        bad = next(c for c in value if not c.isprintable())
        raise PydanticCustomError(
            "id_not_printable",
            "an id must be printable characters only; U+{code} at position {at} is not",
            {"code": f"{ord(bad):04X}", "at": value.index(bad)},
        )
    if value[0] == " " or value[-1] == " ":
        raise PydanticCustomError("id_surrounding_space", "an id must not begin or end with a space")
    return value


# 1 to 128 printable characters, no surrounding space: refused, not stripped,
# in paths, bodies and query parameters alike. Labels (grade, subject, course,
# unit) follow the same rule.
Id = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID), AfterValidator(_printable_id)]
IdPath = Annotated[Id, Path(description="1-128 printable characters, no surrounding space")]

# --- text -------------------------------------------------------------------

MAX_NAME = 200
MAX_STATEMENT = 2_000
MAX_FORM = 32
MAX_FREE_TEXT = 10_000


def _text(max_length: int) -> StringConstraints:
    # Required text as NonBlank was: stripped, then at least one character.
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)


Name = Annotated[str, _text(MAX_NAME), NO_CONTROL]  # student, class, school, benchmark
Statement = Annotated[str, _text(MAX_STATEMENT), NO_CONTROL]
Form = Annotated[str, _text(MAX_FORM), NO_CONTROL]
FreeText = Annotated[str, _text(MAX_FREE_TEXT), NO_CONTROL]  # reasons, reflection text, causes
# Optional free text (notes) and strings inside free-form JSON: may be empty, kept as sent.
AnyText = Annotated[str, StringConstraints(max_length=MAX_FREE_TEXT), NO_CONTROL]

# --- numbers ----------------------------------------------------------------

Percent = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
Duration = Annotated[float, Field(ge=0, le=1_000_000, allow_inf_nan=False)]
TimeFactor = Annotated[float, Field(ge=1, le=10, allow_inf_nan=False)]
GoalTarget = Annotated[int, Field(ge=1, le=100_000)]
MAX_POSITION = 2**63 - 1  # the log's ids are int8
Position = Annotated[int, Field(ge=0, le=MAX_POSITION)]

# List lengths.
MAX_PREREQUISITES = 100
MAX_CLASS_STUDENTS = 1_000
MAX_TEACHERS = 100
MAX_RESULTS = 1_000
MAX_ERROR_ANALYSIS = 200
MAX_ITEMS = 500

# --- times ------------------------------------------------------------------

# RFC 3339 (T or t or a space between date and time, Z or z), with an offset
# in whole minutes, years 1900-2199. Checked on the string before it is
# parsed: pydantic alone reads a number (or a string of digits) as seconds
# since 1970 and takes offsets without a colon or with seconds.
_YEAR = r"(?:19|20|21)\d\d"
_DATE = rf"{_YEAR}-\d\d-\d\d"
_TIME = rf"^{_DATE}[Tt ]\d\d:\d\d:\d\d(?:\.\d{{1,9}})?(?:[Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)$"
TIME_EXAMPLE = "2026-09-14T09:30:00-05:00"


@dataclass(frozen=True)
class _StringFirst:
    """The value must be a string matching `pattern` (else one clear error),
    and is then parsed by the annotated type's own schema (datetime, date),
    which still refuses what the pattern lets through (a 30 February)."""

    pattern: str
    error_type: str
    message: str

    def __get_pydantic_core_schema__(self, source: type, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.chain_schema(
            [
                core_schema.custom_error_schema(
                    core_schema.str_schema(pattern=self.pattern),
                    custom_error_type=self.error_type,
                    custom_error_message=self.message,
                ),
                handler(source),
            ]
        )


Time = Annotated[
    datetime,
    _StringFirst(
        _TIME,
        "time_rfc3339",
        f"must be an RFC 3339 time with an offset, e.g. {TIME_EXAMPLE}, years 1900-2199",
    ),
]
Day = Annotated[date, _StringFirst(rf"^{_DATE}$", "date_iso", "must be a date YYYY-MM-DD, years 1900-2199")]

# --- free-form JSON (attempt `items`, error_analysis `item`) -----------------

MAX_JSON_LEVELS = 8
MAX_SAFE_INT = 2**53 - 1  # what every JSON reader holds exactly
FREE_JSON_MESSAGE = (
    f"must be JSON nested at most {MAX_JSON_LEVELS} levels, with integers within "
    f"+-(2**53-1), finite numbers, and strings of at most {MAX_FREE_TEXT:,} characters "
    "without control characters"
)


def _free_json(levels: int, object_only: bool) -> CoreSchema:
    """A value with at most `levels` levels of arrays and objects: a union of
    strict Python checks. It runs on what pydantic has already parsed (see
    _FreeJson), where an int must not pass as a float, nor a bool as an int,
    so that no integer beyond the bound slips through as a float. Each level
    holds the one below twice (in arrays, in objects): a DAG of dicts here,
    some 500 small unions in each validator pydantic-core builds from it
    (pydantic does not let a custom schema bring definitions to share); with
    every model that holds one, some 7 MB of a process, built at import."""
    text = core_schema.str_schema(strict=True, max_length=MAX_FREE_TEXT, pattern=NO_CONTROL_PATTERN)
    scalars: list[CoreSchema | tuple[CoreSchema, str]] = [
        text,
        core_schema.int_schema(strict=True, ge=-MAX_SAFE_INT, le=MAX_SAFE_INT),
        core_schema.chain_schema(
            [core_schema.is_instance_schema(float), core_schema.float_schema(allow_inf_nan=False)]
        ),
        core_schema.bool_schema(strict=True),
        core_schema.none_schema(),
    ]
    value: CoreSchema = core_schema.union_schema(scalars, mode="left_to_right")
    for level in range(1, levels + 1):
        obj = core_schema.dict_schema(keys_schema=text, values_schema=value, strict=True)
        if level == levels and object_only:
            return obj
        arr = core_schema.list_schema(value, strict=True)
        value = core_schema.union_schema([*scalars, obj, arr], mode="left_to_right")
    return value


@dataclass(frozen=True)
class _FreeJson:
    """Parsed as anything first (so the OpenAPI schema says "any JSON"), then
    checked whole by the bounded union above; one error names the value."""

    object_only: bool

    def __get_pydantic_core_schema__(self, source: type, handler: GetCoreSchemaHandler) -> CoreSchema:
        checked = core_schema.custom_error_schema(
            _free_json(MAX_JSON_LEVELS, self.object_only),
            custom_error_type="free_json_invalid",
            custom_error_message=FREE_JSON_MESSAGE,
        )
        # Written back as any JSON value is (the union's serializer would try
        # its members one by one, twice the cost for a batch with items).
        return core_schema.chain_schema(
            [handler(source), checked], serialization=core_schema.simple_ser_schema("any")
        )


FreeJson = Annotated[Any, _FreeJson(object_only=False)]
FreeJsonObject = Annotated[dict[str, Any], _FreeJson(object_only=True)]

# --- whole bodies -----------------------------------------------------------

MAX_JSON_DEPTH = 32
JSON_TOO_DEEP = f"JSON nested deeper than {MAX_JSON_DEPTH} levels"


def nested_deeper_than(value: Any, levels: int) -> bool:
    """Whether a parsed JSON value has more than `levels` levels of arrays
    and objects (the value itself being the first). Level by level, without
    recursion, so any depth the parser took is measured safely."""
    level = [value]
    for _ in range(levels):
        level = [
            child
            for node in level
            if isinstance(node, (dict, list))
            for child in (node.values() if isinstance(node, dict) else node)
        ]
        if not level:
            return False
    # What is left stands at `levels`: a container there is one level too many.
    return any(isinstance(node, (dict, list)) for node in level)
