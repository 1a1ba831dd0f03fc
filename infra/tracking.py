"""How far each projection has applied each source of events.

A source is where a projection's events come from in log order: the log
itself (`LOG`, tailed by services/projections/runner.py) or one partition of
the Kafka topic (`kafka_source`), each in log order within itself. One row
per (projection, source): the log position up to which every event of that
source has been applied (or, for a Kafka partition, published as absent by
the relay's watermark). What a read reflects is the minimum over a
projection's sources of the active kind (`reached_position`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import BigInteger, Column, ColumnElement, String, Table, false, inspect, select
from sqlalchemy.engine import Connection

from infra.bulk import insert_ignore, upsert
from infra.readstore import metadata

LOG = "log"
KAFKA = "kafka:"  # the prefix of every Kafka partition's source name
# Not a source: up to where a projection's `first` topics were applied when
# a store from before it read them itself was adopted (services/projections/bulk_load.py).
FIRST = "first"

projection_positions = Table(
    "projection_positions",
    metadata,
    Column("projection", String, primary_key=True),
    Column("source", String, primary_key=True),
    Column("position", BigInteger, nullable=False),
    # A Kafka partition's only: the next offset to read, and the log position
    # of the record before it (how a worker finds the topic recreated behind it).
    Column("kafka_offset", BigInteger),
    Column("kafka_last", BigInteger),
)


def kafka_source(topic: str, partition: int) -> str:
    return f"{KAFKA}{topic}:{partition}"


def _of_kind(kind: str) -> ColumnElement[bool]:
    c = projection_positions.c.source
    return c == LOG if kind == LOG else c.startswith(kind, autoescape=True)


def tracked_position(conn: Connection, projection: str, source: str = LOG) -> int:
    t = projection_positions
    pos = conn.execute(
        select(t.c.position).where(t.c.projection == projection, t.c.source == source)
    ).scalar()
    return int(pos or 0)


def reached_position(conn: Connection, projections: Sequence[str], kind: str = LOG) -> int:
    """The log position every event at or below which every one of these
    projections has applied, from the sources of `kind` (0 for a projection
    that tracks none yet), in one statement: readers ask this on every request."""
    t = projection_positions
    rows = conn.execute(
        select(t.c.projection, t.c.position).where(t.c.projection.in_(list(projections)), _of_kind(kind))
    )
    found: dict[str, int] = {}
    for r in rows:
        found[r.projection] = min(found.get(r.projection, int(r.position)), int(r.position))
    return min((found.get(p, 0) for p in projections), default=0)


def lock_positions(conn: Connection, projections: Sequence[str], source: str = LOG) -> dict[str, int]:
    """Lock the tracking rows of these projections in one source for this
    transaction and read them.

    A write is the first statement on purpose: on PostgreSQL it takes the row
    locks, on SQLite the database write lock, so a live batch and a rebuild's
    switch-over queue behind each other instead of deadlocking.
    """
    got = lock_sources(conn, projections, [source])
    return {p: got[(p, source)] for p in projections}


def lock_sources(
    conn: Connection, projections: Sequence[str], sources: Sequence[str]
) -> dict[tuple[str, str], int]:
    """`lock_positions` over several sources at once (rows created at 0)."""
    t = projection_positions
    keys = [{"projection": p, "source": s, "position": 0} for p in projections for s in sources]
    insert_ignore(conn, t, keys)
    where = (t.c.projection.in_(list(projections)), t.c.source.in_(list(sources)))
    conn.execute(t.update().where(*where).values(position=t.c.position))
    rows = conn.execute(select(t.c.projection, t.c.source, t.c.position).where(*where))
    return {(r.projection, r.source): int(r.position) for r in rows}


def set_position(conn: Connection, projection: str, position: int, source: str = LOG) -> None:
    row = {"projection": projection, "source": source, "position": position}
    upsert(conn, projection_positions, [row], ["projection", "source"])


def partition_offsets(conn: Connection, projection: str, source: str) -> tuple[int, int] | None:
    """A partition's recorded (next offset, log position of the record before it), if any."""
    t = projection_positions
    q = select(t.c.kafka_offset, t.c.kafka_last).where(t.c.projection == projection, t.c.source == source)
    row = conn.execute(q).first()
    if row is None or row.kafka_offset is None:
        return None
    return int(row.kafka_offset), int(row.kafka_last)


def record_partition(
    conn: Connection, projections: Sequence[str], source: str, position: int, offset: int, last: int
) -> None:
    """A partition applied up to `position`, read up to `offset`, whose record
    before it stood at log position `last` (rows locked by `lock_sources`)."""
    t = projection_positions
    conn.execute(
        t.update()
        .where(t.c.projection.in_(list(projections)), t.c.source == source)
        .values(position=position, kafka_offset=offset, kafka_last=last)
    )


def start_sources(conn: Connection, projections: Sequence[str], sources: Sequence[str]) -> None:
    """Rows for sources not tracked yet, at the projection's `LOG` position
    (every event at or below it has been applied, whichever source brings it):
    a district moving to Kafka does not apply its whole log again, and a
    read's position counts every partition from the start."""
    t = projection_positions
    rows = [
        {"projection": p, "source": s, "position": tracked_position(conn, p)}
        for p in projections
        for s in sources
    ]
    insert_ignore(conn, t, rows)


def forget_position(conn: Connection, projection: str) -> None:
    """Every source's row of this projection."""
    conn.execute(projection_positions.delete().where(projection_positions.c.projection == projection))


def forget_prefixed_positions(conn: Connection, prefix: str) -> None:
    t = projection_positions
    conn.execute(t.delete().where(t.c.projection.startswith(prefix, autoescape=True)))


def adopt_old_tracking(conn: Connection) -> None:
    """Stores before per-source tracking kept one position per projection in
    `projection_tracking`: it becomes the `LOG` source's row, and the old
    table goes (the caller holds schema_turn)."""
    if "projection_tracking" not in inspect(conn).get_table_names():
        return
    old = conn.exec_driver_sql("SELECT projection, position FROM projection_tracking").all()
    insert_ignore(
        conn, projection_positions, [{"projection": p, "source": LOG, "position": int(n)} for p, n in old]
    )
    conn.exec_driver_sql("DROP TABLE projection_tracking")


def lock_every_source(conn: Connection, projections: Sequence[str]) -> dict[str, int]:
    """Lock every tracking row of these projections, whatever its source (a
    rebuild's switch: no worker of any partition commits meanwhile); return
    their `LOG` positions."""
    t = projection_positions
    insert_ignore(conn, t, [{"projection": p, "source": LOG, "position": 0} for p in projections])
    conn.execute(t.update().where(t.c.projection.in_(list(projections))).values(position=t.c.position))
    return {p: tracked_position(conn, p) for p in projections}


def write_first(conn: Connection) -> None:
    """On SQLite, make this transaction a writer before it reads: a read
    transaction that later writes fails at once ("database is locked", no
    busy wait) when another process wrote meanwhile, as a rebuild's loader
    processes do. Elsewhere nothing."""
    if conn.dialect.name == "sqlite":
        conn.execute(
            projection_positions.update().where(false()).values(position=projection_positions.c.position)
        )
