"""Stream ids are UUIDv5 of a stable key, so any process derives them without a lookup."""

from __future__ import annotations

from functools import lru_cache
from uuid import UUID, uuid5

# A fixed namespace for Mastery Ledger: changing it would orphan every stream.
NAMESPACE = UUID("6f1d4c1e-5b0a-4c8e-9a57-3c2f0e6b9d10")


@lru_cache(maxsize=65536)
def learner_stream(student_id: str) -> UUID:
    """The stream holding every learning event of one student."""
    return uuid5(NAMESPACE, f"learner:{student_id}")


@lru_cache(maxsize=4096)
def objective_stream(objective_id: str) -> UUID:
    """The stream holding an objective's statement and its rule versions."""
    return uuid5(NAMESPACE, f"objective:{objective_id}")


def school_stream(school_id: str) -> UUID:
    return uuid5(NAMESPACE, f"school:{school_id}")


def class_stream(class_id: str) -> UUID:
    return uuid5(NAMESPACE, f"class:{class_id}")


@lru_cache(maxsize=65536)
def profile_stream(student_id: str) -> UUID:
    """The stream holding a student's profile (name, grade, school) and its
    erasure: apart from the learning stream, so that changing a name loads no
    learning history."""
    return uuid5(NAMESPACE, f"profile:{student_id}")
