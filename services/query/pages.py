"""Pages of a list that grows (schools, classes, the catalog): a cursor and a limit.

A page is `{"<things>": [...], "next": ID or null}`. `next` is the id of the
last thing on the page when more follow; the caller asks again with
`?after=ID`. Keyset pagination (WHERE key > after ORDER BY key LIMIT n+1)
rather than an offset: a page costs the same at the end of a long list as at
its start, and a thing added while a caller pages through is neither skipped
nor shown twice before the cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, TypeVar

from fastapi import Query

from services.inputs import Id

MAX_LIMIT = 1_000
DEFAULT_LIMIT = 100

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"at most this many (1-{MAX_LIMIT:,})")]
After = Annotated[Id | None, Query(description="the `next` of the page before: continue after this id")]

T = TypeVar("T")


def cut(rows: Sequence[T], limit: int, key: Callable[[T], str]) -> tuple[Sequence[T], str | None]:
    """`rows` as fetched with LIMIT limit + 1: the page, and its `next` (the
    key of its last row) if a row beyond it was found."""
    if len(rows) <= limit:
        return rows, None
    page = rows[:limit]
    return page, key(page[-1])
