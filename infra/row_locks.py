"""Transaction-scoped locks on names (PostgreSQL advisory locks).

Projection workers apply different Kafka partitions at once; where one
worker's fold reads what another's writes (a student's status reads its
objective's rule versions, which another partition's worker may be issuing
and then recomputing every student on), both take a lock on the objective's
name: shared to read, exclusive to write, so one of them always sees the
other's committed rows. SQLite has one writer at a time and needs none.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.engine import Connection


def _key(namespace: str, name: str) -> int:
    digest = hashlib.blake2b(f"{namespace}\x00{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_names(conn: Connection, namespace: str, names: Iterable[str], *, shared: bool) -> None:
    """Take the locks until the transaction ends, in key order (two workers
    taking overlapping sets cannot wait on each other crosswise; a deadlock
    across sets is PostgreSQL's to detect, and transient: the batch runs again)."""
    if conn.dialect.name != "postgresql":
        return
    keys = sorted({_key(namespace, n) for n in names})
    if not keys:
        return
    fn = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    conn.execute(
        text(f"SELECT {fn}(k) FROM (SELECT unnest(CAST(:keys AS bigint[])) AS k ORDER BY 1) AS s"),
        {"keys": keys},
    )
