"""The depth of a JSON body read from its bytes, as the parser reading it from
the start finds it, brackets inside strings and escapes included, whole or
cut short; and which bodies are JSON (as FastAPI decides)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from services.jsonbody import is_json, nests_deeper_than

# Strings full of what could fool a scan: brackets, quotes, backslashes.
_TRICKY = st.text(alphabet='[]{}"\\ab\n', max_size=8)
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | _TRICKY,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TRICKY, inner, max_size=3),
    max_leaves=40,
)


def _deepest(body: bytes) -> int:
    """The reference: one character at a time, as a parser meets them."""
    depth = deepest = 0
    in_string = escaped = False
    for c in body.decode():
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth -= 1
    return deepest


def _wrapped(value: Any, levels: int) -> Any:
    for i in range(levels):
        value = [value] if i % 2 else {"k": value}
    return value


@given(_VALUES, st.integers(0, 40), st.integers(1, 12), st.floats(0, 1), st.booleans())
# Found by this test: a body cut inside a string, `{"k": "[`, read the bracket
# in the unclosed string as a second level.
@example(value="[", wrap=1, limit=1, cut=0.875, ascii_only=False)
def test_the_depth_is_the_one_a_parser_meets(
    value: Any, wrap: int, limit: int, cut: float, ascii_only: bool
) -> None:
    body = json.dumps(_wrapped(value, wrap), ensure_ascii=ascii_only).encode()
    assert nests_deeper_than(body, limit) == (_deepest(body) > limit)
    # Cut short (not JSON any more) at a character boundary: what was opened still counts.
    text = body.decode()
    short = text[: int(len(text) * cut)].encode()
    assert nests_deeper_than(short, limit) == (_deepest(short) > limit)


def test_the_edges() -> None:
    assert not nests_deeper_than(b"[" * 32 + b"]" * 32, 32)
    assert nests_deeper_than(b"[" * 33 + b"]" * 33, 32)
    assert nests_deeper_than(b"[" * 100_000, 32)  # cut short, deep: the json module recursed on it
    assert not nests_deeper_than(b'"' + b"[" * 100 + b'"', 32)
    assert not nests_deeper_than(b"]]]]", 2)
    assert not nests_deeper_than(b"12", 0)


def test_json_media_types_are_fastapis() -> None:
    assert all(map(is_json, ["application/json", "application/json; charset=utf-8", "application/x+json"]))
    assert not any(map(is_json, [None, "", "text/plain", "application/jsonx", "text/json"]))
