"""nests_deeper_than reads the depth of a JSON document from its bytes as a
parser would find it, brackets inside strings and escapes included."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from services.jsonbody import MAX_JSON_DEPTH, is_json, nests_deeper_than

# Strings full of what could fool a scan: brackets, quotes, backslashes.
_TRICKY = st.text(alphabet='[]{}"\\ab\n', max_size=8)
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | _TRICKY,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TRICKY, inner, max_size=3),
    max_leaves=40,
)


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


def _wrapped(value: Any, levels: int) -> Any:
    for i in range(levels):
        value = [value] if i % 2 else {"k": value}
    return value


@given(_VALUES, st.integers(0, 40), st.integers(0, 12), st.booleans())
def test_the_depth_is_the_parsers(value: Any, wrap: int, limit: int, ascii_only: bool) -> None:
    document = _wrapped(value, wrap)
    body = json.dumps(document, ensure_ascii=ascii_only).encode()
    assert nests_deeper_than(body, limit) == (_depth(document) > limit)


def test_the_stated_limit() -> None:
    assert not nests_deeper_than(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH)
    assert nests_deeper_than(b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1))
    assert not nests_deeper_than(b'"' + b"[" * 100 + b'"')
    assert not nests_deeper_than(b"12")


def test_json_media_types_are_fastapis() -> None:
    assert all(map(is_json, ["application/json", "application/json; charset=utf-8", "application/x+json"]))
    assert not any(map(is_json, [None, "", "text/plain", "application/jsonx", "text/json"]))
