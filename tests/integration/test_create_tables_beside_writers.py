"""A process starting beside one that is writing (issue 12: a projection
worker added or restarted while another applies a batch) creates its tables
without waiting on the writer's locks: on tables that exist, `create_tables`
takes no lock that conflicts with a writer's. Before, CREATE INDEX IF NOT
EXISTS took each table's SHARE lock, held over every table in one
transaction, and a worker starting beside an applying one deadlocked with it
(seen in the Kafka bench starting two workers)."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Index, String, Table, create_engine, insert

from infra.readstore import create_tables, fresh_metadata, sqlalchemy_url
from tests.services import fresh_postgres_database

pytestmark = pytest.mark.postgres


def test_create_tables_on_existing_tables_does_not_wait_for_a_writer() -> None:
    md = fresh_metadata()
    first = Table(
        "rm_first", md, Column("k", String, primary_key=True), Column("v", String), Index(None, "v")
    )
    second = Table(
        "rm_second", md, Column("k", String, primary_key=True), Column("v", String), Index(None, "v")
    )
    with fresh_postgres_database() as url:
        writer = create_engine(sqlalchemy_url(url))
        # A lock the starting process would wait for fails it at once, rather than hang the test.
        starter = create_engine(sqlalchemy_url(url), connect_args={"options": "-c lock_timeout=2000"})
        try:
            create_tables(writer, [first, second])
            with writer.begin() as conn:
                conn.execute(insert(first).values(k="a", v="x"))  # ROW EXCLUSIVE on rm_first, held
                conn.execute(insert(second).values(k="a", v="x"))
                create_tables(starter, [first, second])  # raises LockNotAvailable if it needs SHARE
            # A missing index is still created.
            index = Index("ix_rm_second_extra", second.c.v, second.c.k)
            create_tables(starter, [second])
            with starter.connect() as conn:
                names = {r[0] for r in conn.exec_driver_sql("SELECT indexname FROM pg_indexes")}
            assert {"ix_rm_first_v", "ix_rm_second_v", index.name} <= names
        finally:
            writer.dispose()
            starter.dispose()
