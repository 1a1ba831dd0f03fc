"""Objective lookups shared by ingest, projections and query.

Objectives are few and read on every batch, so they are cached in process;
one indexed query for the head versions of the requested streams tells which
cached entries are stale, so every process sees a new rule version at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.ids import objective_stream
from domain.objective import Objective
from domain.rules.model import Rule
from domain.rules.versions import RuleVersion
from infra.eventstore import LedgerStore


@dataclass(frozen=True)
class ObjectiveView:
    objective_id: str
    statement: str
    subject: str
    course: str
    unit: str
    sequence: int
    prerequisites: tuple[str, ...]
    versions: tuple[RuleVersion, ...]
    stream_version: int

    @property
    def current_rule(self) -> Rule:
        return self.versions[-1].rule

    def versions_known_at(self, known_at: datetime | None) -> tuple[RuleVersion, ...]:
        if known_at is None:
            return self.versions
        return tuple(v for v in self.versions if v.recorded_at <= known_at)

    @classmethod
    def of(cls, o: Objective) -> ObjectiveView:
        return cls(
            o.objective_id,
            o.statement,
            o.subject,
            o.course,
            o.unit,
            o.sequence,
            tuple(o.prerequisites),
            tuple(o.rule_versions),
            o.version,
        )


class Catalog:
    def __init__(self, store: LedgerStore) -> None:
        self.store = store
        self._cache: dict[str, ObjectiveView] = {}
        self._lock = threading.Lock()

    def get_many(self, objective_ids: Iterable[str]) -> dict[str, ObjectiveView]:
        ids = sorted(set(objective_ids))
        if not ids:
            return {}
        return self.at_heads(ids, self.store.indexed.select_heads([objective_stream(i) for i in ids]))

    def at_heads(self, objective_ids: Iterable[str], heads: Mapping[UUID, int]) -> dict[str, ObjectiveView]:
        """The views of these objectives at the head versions the caller has just read
        (objectives without a head do not exist and are left out)."""
        found: dict[str, ObjectiveView] = {}
        for oid in objective_ids:
            stream = objective_stream(oid)
            head = heads.get(stream)
            if head is None:
                continue
            with self._lock:
                cached = self._cache.get(oid)
            if cached is None or cached.stream_version != head:
                aggregate: object = self.store.repository.get(stream)
                assert isinstance(aggregate, Objective)
                cached = ObjectiveView.of(aggregate)
                with self._lock:
                    self._cache[oid] = cached
            found[oid] = cached
        return found

    def get(self, objective_id: str) -> ObjectiveView | None:
        return self.get_many([objective_id]).get(objective_id)
