"""What the service decides about a JSON body from its bytes, before FastAPI's
parser (the json module) sees it: is it JSON, how deep does it nest.

The json module recurses once per level: a body nested a thousand deep
raised RecursionError (a 500), and so did a body cut short a thousand deep.
"""

from __future__ import annotations

import email.message
import re
from itertools import accumulate

# A JSON string: quotes around anything but a quote or a backslash, or an
# escape (the loop unrolled, which the regex engine runs far faster).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_SQUARE = bytes.maketrans(b"{}", b"[]")
_STEP = [0] * 256  # what each bracket does to the depth
_STEP[ord("[")], _STEP[ord("]")] = 1, -1


def is_json(content_type: str | None) -> bool:
    """Whether FastAPI parses a body of this type as JSON (its strict content
    type rule): application/json or application/*+json, nothing when absent."""
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def nests_deeper_than(body: bytes, limit: int) -> bool:
    """Whether `body` opens more than `limit` arrays or objects inside one
    another (a top-level one is level 1), as a parser reading it from the
    start would find them, whether the body is valid JSON or not.

    The brackets outside strings, first: a valid body's match, so each pass
    that removes every adjacent pair `[]` takes one level off, and a body
    they leave empty within `limit` passes is no deeper (a few passes of
    `bytes.replace`, in C). What is left (a deep body, or an invalid one)
    is measured exactly, bracket by bracket. Past an invalid point the
    strings may be misread; the parser stops there anyway."""
    outside = _STRING.sub(b"", body)
    # A quote left over opens a string that never closes (a body cut short):
    # all that follows it is inside that string, brackets included.
    unclosed = outside.find(b'"')
    if unclosed >= 0:
        outside = outside[:unclosed]
    brackets = outside.translate(_SQUARE, _NOT_BRACKETS)
    rest = brackets
    for _ in range(limit):
        if not rest:
            return False
        rest = rest.replace(b"[]", b"")
    if not rest:
        return False
    return max(accumulate(map(_STEP.__getitem__, brackets))) > limit
