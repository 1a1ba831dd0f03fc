"""The input rules' types (services/inputs.py) against the rules as stated
(docs/input-rules.md), over generated values rather than a few examples."""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from services.inputs import (
    MAX_ID,
    MAX_JSON_LEVELS,
    MAX_SAFE_INT,
    FreeJson,
    FreeText,
    Id,
    Name,
    Time,
    nested_deeper_than,
)

ID = TypeAdapter(Id)
NAME = TypeAdapter(Name)
FREE = TypeAdapter(FreeText)
TIME = TypeAdapter(Time)
FREE_JSON = TypeAdapter(FreeJson)
CONTROL = {*map(chr, range(0x20)), *map(chr, range(0x7F, 0xA0))} - {"\t", "\n", "\r"}
# What required text is stripped of: Unicode White_Space (pydantic-core trims
# with it), which unlike str.strip() keeps U+001C-U+001F, then refused.
WHITE_SPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000"
)


def accepts(adapter: TypeAdapter[Any], value: Any, *, from_json: bool = False) -> bool:
    try:
        if from_json:
            adapter.validate_json(value)
        else:
            adapter.validate_python(value)
    except ValidationError:
        return False
    return True


# Every kind of character: any code point, surrogates included (a JSON `\ud800`
# read by the json module arrives as one).
characters = st.characters(codec=None, exclude_categories=())
ids = st.one_of(
    st.text(characters, max_size=MAX_ID + 2),
    st.text(st.sampled_from("ab é中😀 \u202e\u00a0\x00\t"), max_size=6),
)


@given(ids)
def test_an_id_is_accepted_exactly_when_the_rule_says(value: str) -> None:
    rule = (
        1 <= len(value) <= MAX_ID
        and value.isprintable()
        and not value.startswith(" ")
        and not value.endswith(" ")
    )
    assert accepts(ID, value) == rule


def test_an_id_is_refused_not_stripped() -> None:
    assert ID.validate_python("a b") == "a b"
    for value in (" lead", "lead ", "\tlead"):
        with pytest.raises(ValidationError):
            ID.validate_python(value)


@given(st.text(characters, max_size=210))
def test_a_name_is_accepted_exactly_when_the_rule_says(value: str) -> None:
    kept = value.strip(WHITE_SPACE)
    rule = (
        1 <= len(kept) <= 200
        and not CONTROL & set(kept)
        and not any(0xD800 <= ord(c) <= 0xDFFF for c in kept)
    )
    assert accepts(NAME, value) == rule
    if rule:
        assert NAME.validate_python(value) == kept


def test_free_text_keeps_tab_newline_and_other_separators() -> None:
    text = "a\tb\nc\r\u2028d\u202ee"
    assert FREE.validate_python(text) == text
    assert accepts(FREE, "x" * 10_000) and not accepts(FREE, "x" * 10_001)


@given(
    st.datetimes(
        min_value=datetime(1850, 1, 1),
        max_value=datetime(2250, 12, 31),
        # Fixed offsets, some with seconds (refused): a zone's ambiguous local
        # times would not compare equal across zones.
        timezones=st.builds(
            timezone,
            st.timedeltas(
                min_value=-timedelta(hours=23, minutes=59), max_value=timedelta(hours=23, minutes=59)
            ),
        ),
    ),
    st.sampled_from(["T", "t", " "]),
)
def test_a_time_with_an_offset_in_range_is_read_as_written(when: datetime, sep: str) -> None:
    text = when.isoformat(sep=sep)
    offset = when.utcoffset()
    whole_minutes = offset is not None and offset.total_seconds() % 60 == 0
    rule = 1900 <= when.year <= 2199 and whole_minutes
    assert accepts(TIME, json.dumps(text), from_json=True) == rule
    if rule:
        # The same instant; datetime's isoformat writes microseconds at most.
        assert TIME.validate_json(json.dumps(text)) == when


@pytest.mark.parametrize(
    "value",
    [
        0,
        0.5,
        1.7e9,
        "0",
        "1700000000",
        "2026-09-14T09:30:00",
        "2026-09-14T09:30Z",
        "2026-09-14T09:30:00+0530",
    ],
)
def test_numbers_and_times_without_an_offset_are_not_times(value: Any) -> None:
    assert not accepts(TIME, json.dumps(value), from_json=True)
    assert not accepts(TIME, value)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(characters, max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(characters, max_size=5), inner, max_size=3)
    ),
    max_leaves=30,
)


def _within(value: Any, room: int) -> bool:
    """The stated rule for free-form JSON, written plainly."""
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, int):
        return abs(value) <= MAX_SAFE_INT
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        return len(value) <= 10_000 and not re.search(
            "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]", value
        )
    if room == 0:
        return False
    if isinstance(value, dict):
        return all(_within(k, 0) and _within(v, room - 1) for k, v in value.items())
    return all(_within(v, room - 1) for v in value)


@given(json_values, st.integers(min_value=0, max_value=10))
def test_free_json_is_accepted_exactly_when_the_rule_says(value: Any, wrap: int) -> None:
    for _ in range(wrap):
        value = [value]
    assert accepts(FREE_JSON, value) == _within(value, MAX_JSON_LEVELS)
    if _within(value, MAX_JSON_LEVELS):
        kept = FREE_JSON.validate_python(value)
        assert json.dumps(kept) == json.dumps(value)  # the same types: 1 stays 1, 1.0 stays 1.0


@given(st.integers(min_value=0, max_value=40), st.integers(min_value=1, max_value=40))
def test_nested_deeper_than_counts_levels(depth: int, limit: int) -> None:
    value: Any = 1
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    assert nested_deeper_than(value, limit) == (depth > limit)
