"""An export's filters: `school_id`, `from`, `to` (docs/exports.md, "Filters").

* `from` and `to` cut on `occurred_at`, `from` included and `to` excluded, so
  consecutive windows (school years, weeks) neither overlap nor leave a gap.
  Only the kinds with an `occurred_at` take them: the roster and the catalog
  are as they stand at the export's start, not as they stood then, and
  a window that quietly did nothing would read as a filtered file.
* `school_id` keeps the students whose school, in the roster at the
  export's start, is that one. The catalog belongs to no school.
* `scope` is not a parameter: the schools of a leader's token, which keep
  its export to their students as `school_id` would (docs/exports.md).

A filter a kind does not take is refused (422, naming it), as an unknown
query parameter is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.errors import InvalidInput, error

TIMED_KINDS = ("events", "mastery")
SCHOOL_KINDS = ("events", "mastery", "roster")


@dataclass(frozen=True)
class Filters:
    school_id: str | None = None
    start: datetime | None = None  # `from`, included
    end: datetime | None = None  # `to`, excluded
    scope: frozenset[str] | None = None  # a leader's schools; school_id, if given, is one of them

    @property
    def schools(self) -> frozenset[str] | None:
        """The schools whose students the export keeps (None: every student)."""
        return frozenset({self.school_id}) if self.school_id is not None else self.scope

    def problems(self, kind: str) -> list[dict[str, Any]]:
        """What is wrong with these filters for `kind`, as problem+json `errors`
        (loc names the query parameter; the CLI shows the messages)."""
        out = []
        if kind not in TIMED_KINDS:
            for name, value in (("from", self.start), ("to", self.end)):
                if value is not None:
                    out.append(
                        error(
                            ["query", name],
                            f"kind {kind} has no occurred_at to cut on (only events, mastery)",
                        )
                    )
        if self.school_id is not None and kind not in SCHOOL_KINDS:
            out.append(error(["query", "school_id"], f"kind {kind} belongs to no school"))
        if self.start is not None and self.end is not None and self.start >= self.end:
            out.append(error(["query", "to"], "must be later than from (from is included, to is not)"))
        return out

    def occurred(self, at: datetime) -> bool:
        return (self.start is None or at >= self.start) and (self.end is None or at < self.end)

    @property
    def timed(self) -> bool:
        return self.start is not None or self.end is not None


def refuse_unfit(kind: str, filters: Filters) -> Filters:
    """`filters`, if `kind` takes them; else InvalidInput (422) naming each misfit."""
    if problems := filters.problems(kind):
        raise InvalidInput("the export's filters do not fit its kind", problems)
    return filters
