"""Schemathesis hooks for tests/e2e/test_schemathesis.py, loaded by the
`schemathesis` process it starts (SCHEMATHESIS_HOOKS names this file).

A read with a `min_position` the read models have not reached waits up to 5 s
and then answers 503 with Retry-After (CONTRACT.md §2): by design, and the
subject of the flood test. Generated at random, most valid positions are far
beyond the log, and a run would be minutes of waiting. So in a valid request
every `min_position` beyond the one the service was seeded to (and has
reached) is sent as that one. Invalid requests are sent as generated: one with
an invalid `min_position` (negative, beyond 2**63-1, not an integer) or any
other invalid part must be refused at once, whatever position it names.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis

REACHED_ENV = "MASTERY_TEST_REACHED_POSITION"
MAX_POSITION = 2**63 - 1  # the stated bound of min_position (docs/input-rules.md)


@schemathesis.hook
def map_case(context: schemathesis.HookContext, case: schemathesis.Case[Any]) -> schemathesis.Case[Any]:
    del context
    if case.meta is not None and case.meta.generation.mode is not schemathesis.GenerationMode.POSITIVE:
        return case
    reached = int(os.environ[REACHED_ENV])
    value = (case.query or {}).get("min_position")
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and reached < value <= MAX_POSITION:
        case.query["min_position"] = reached
    return case


# POST /v1/imports/oneroster takes a zip (application/zip), a media type
# Schemathesis has no serializer for: its bytes are sent as binary bodies are.
schemathesis.serializer.alias("application/zip", "application/octet-stream")
