"""Students' keys in the trust store (infra/trust.py): drawn on first need,
destroyed by an erasure, never drawn again for an erased student."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select

from domain.records import PERSONAL_FIELDS
from infra.sealing import ERASED, SEAL_PREFIX, SealBroken, StudentKey
from infra.trust import checkpoint, erased_students, insert_missing, student_keys

_CHUNK = 500
NAME_CONTEXT = "name"  # what a profile's name is sealed for (the seal's associated data)


class StudentKeys:
    def __init__(self, trust: Engine) -> None:
        self.trust = trust

    def for_reading(self, student_ids: Iterable[str]) -> dict[str, StudentKey]:
        """The keys of these students; an erased student (or one that never
        had a key) is absent."""
        wanted = sorted(set(student_ids))
        found: dict[str, StudentKey] = {}
        with self.trust.connect() as conn:
            for i in range(0, len(wanted), _CHUNK):
                q = select(student_keys.c.student_id, student_keys.c.key).where(
                    student_keys.c.student_id.in_(wanted[i : i + _CHUNK])
                )
                found.update({sid: StudentKey(sid, bytes(key)) for sid, key in conn.execute(q)})
        return found

    def for_writing(self, student_ids: Iterable[str]) -> tuple[dict[str, StudentKey], set[str]]:
        """The keys of these students, drawn for those that have none; and the
        erased among them, who get none."""
        wanted = sorted(set(student_ids))
        have = self.for_reading(wanted)
        erased = self.erased(s for s in wanted if s not in have)
        missing: list[dict[str, object]] = [
            {"student_id": sid, "key": secrets.token_bytes(32), "created_at": datetime.now(UTC)}
            for sid in wanted
            if sid not in have and sid not in erased
        ]
        if missing:
            drawn = [str(row["student_id"]) for row in missing]
            with self.trust.begin() as conn:
                insert_missing(conn, student_keys, missing)  # another writer's key wins: read back
            # An erasure between the check and the insert: its key goes again.
            late = self.erased(drawn)
            if late:
                with self.trust.begin() as conn:
                    conn.execute(student_keys.delete().where(student_keys.c.student_id.in_(sorted(late))))
                erased |= late
            have.update(self.for_reading(s for s in drawn if s not in late))
        return have, erased

    def erased(self, student_ids: Iterable[str]) -> set[str]:
        wanted = sorted(set(student_ids))
        out: set[str] = set()
        with self.trust.connect() as conn:
            for i in range(0, len(wanted), _CHUNK):
                q = select(erased_students.c.student_id).where(
                    erased_students.c.student_id.in_(wanted[i : i + _CHUNK])
                )
                out.update(conn.execute(q).scalars())
        return out

    def destroy(self, student_id: str) -> bool:
        """Destroy the student's key for good; False if it was already gone.
        The erased mark goes in first, in the same transaction: no writer
        draws a new key for the student after this."""
        with self.trust.begin() as conn:
            mark = {"student_id": student_id, "erased_at": datetime.now(UTC)}
            insert_missing(conn, erased_students, [mark])
            gone = conn.execute(student_keys.delete().where(student_keys.c.student_id == student_id)).rowcount
        checkpoint(self.trust)
        return bool(gone)


UNREADABLE = "[unreadable]"  # a seal that does not open under a key the student still has


class Opener:
    """Opens one student's personal data for a reader: what the event holds,
    `[erased]` where the student's key is destroyed (infra.sealing.ERASED)."""

    def __init__(self, key: StudentKey | None) -> None:
        self.key = key

    def name(self, stored: str) -> str:
        """A profile's name as the read models and the profile stream hold it:
        sealed, or in clear from a store before schema version 2."""
        if not stored.startswith(SEAL_PREFIX):
            return stored
        return str(self._open(stored, NAME_CONTEXT, ERASED))

    def personal(
        self, record_type: str, event_id: str, stored: str | dict[str, Any] | None
    ) -> dict[str, Any]:
        """A learning event's personal data by field (empty when it had none)."""
        if stored is None:
            return {}
        if isinstance(stored, dict):  # in clear: an event from before schema version 2
            return stored
        fields = PERSONAL_FIELDS[record_type]
        opened = self._open(stored, event_id, None)
        if isinstance(opened, dict):
            return opened
        return dict.fromkeys(fields, ERASED if self.key is None else UNREADABLE)

    def _open(self, seal: str, context: str, erased: Any) -> Any:
        if self.key is None:
            return erased
        try:
            return self.key.open(seal, context)
        except SealBroken:
            return UNREADABLE if erased is not None else None
