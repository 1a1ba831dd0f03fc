"""The bounds of the values a mastery rule holds (docs/input-rules.md).

Everything accepted must be storable and projectable by every store, live and
by rebuild alike: PostgreSQL cannot keep U+0000 in text or jsonb, an int4
column overflows at 2**31, and NaN or infinity compare as nothing does. The
request schemas (services/inputs.py) build on these; the rule model uses them
directly because a rule is a domain value.

The checks run inside pydantic-core (constraints, a Rust regex), not in a
Python function per value: they sit on the hot path of `POST /v1/events`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import Field, GetCoreSchemaHandler, StringConstraints
from pydantic_core import CoreSchema, core_schema

# Counts (correct, total, an objective's sequence, a rule's "9 of 10"): within
# what an int4 column holds, with room to spare, and beyond any real test.
MAX_COUNT = 1_000_000
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
PositiveCount = Annotated[int, Field(ge=1, le=MAX_COUNT)]
Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]

# The control characters (Unicode Cc) text may not hold: all but TAB, LF, CR.
NO_CONTROL_PATTERN = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
NO_CONTROL_MESSAGE = (
    "must not contain control characters other than tab, line feed and carriage return "
    "(no U+0000), nor lone surrogates"
)


@dataclass(frozen=True)
class NoControlCharacters:
    """Refuses a str holding a control character other than TAB, LF or CR, as
    a step after the str's own constraints (so their messages stay theirs).
    A lone surrogate (a JSON `\\ud800` read by the json module) cannot be
    matched by the regex at all and fails the same step, with the same message."""

    def __get_pydantic_core_schema__(self, source: type, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.chain_schema(
            [
                handler(source),
                core_schema.custom_error_schema(
                    core_schema.str_schema(pattern=NO_CONTROL_PATTERN),
                    custom_error_type="string_control_character",
                    custom_error_message=NO_CONTROL_MESSAGE,
                ),
            ]
        )


NO_CONTROL = NoControlCharacters()

# Required text: stripped, then at least one character (NonBlank, as before).
LevelName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), NO_CONTROL]
MAX_LEVELS = 20
