"""Bulk reads and writes of read-model rows: the projections' hot path.

SQLAlchemy's executemany sends one statement per row for ON CONFLICT on
psycopg, or pages rows into statements so long that psycopg's query parsing
dominates; an expanded IN list is a new, long statement for every batch.
Here a whole batch is one statement over typed arrays on PostgreSQL (as the
event store inserts), COPY into tables that cannot hold the rows yet, and
one prepared statement run many times on SQLite.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import JSON, BigInteger, Column, Float, Integer, String, Table
from sqlalchemy.engine import Connection


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def upsert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> None:
    """Insert rows, replacing the non-key columns of rows whose keys exist."""
    # One statement may not touch a key twice (PostgreSQL refuses): the last row wins.
    unique = list({tuple(r[k] for k in keys): r for r in rows}.values())
    _bulk(conn, table, unique, keys, update=True)


def insert_ignore(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, skipping those whose primary key exists (redelivery)."""
    _bulk(conn, table, rows, [c.name for c in table.primary_key.columns], update=False)


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows whose keys the table cannot hold yet (a fresh table, or
    keys just deleted): COPY on PostgreSQL."""
    _bulk(conn, table, rows, None, update=False)


# (array element type for unnest, binary COPY type) per column type. JSON goes
# as its text: into unnest, cast in the SELECT; into COPY as "text", whose
# binary form is json's (psycopg's "json" dumper would encode the text again).
_PG_TYPES: tuple[tuple[type, str, str], ...] = (
    (JSON, "text", "text"),
    (BigInteger, "bigint", "int8"),
    (Integer, "bigint", "int4"),
    (Float, "float8", "float8"),
    (String, "text", "text"),
)


def _pg_type(column: Column[Any], copy: bool = False) -> str:
    for sa_type, array, binary in _PG_TYPES:
        if isinstance(column.type, sa_type):
            return binary if copy else array
    raise TypeError(f"no bulk type for {column.table.name}.{column.name} ({column.type})")


def _bulk(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    conflict: Sequence[str] | None,
    *,
    update: bool,
) -> None:
    if not rows:
        return
    columns = [c for c in table.columns if c.name in rows[0]]
    json_cols = {c.name for c in columns if isinstance(c.type, JSON)}
    values = [[_dumps(r[c.name]) if c.name in json_cols else r[c.name] for r in rows] for c in columns]
    q = conn.dialect.identifier_preparer.quote
    names = ", ".join(q(c.name) for c in columns)
    tail = ""
    if conflict is not None:
        target = ", ".join(q(k) for k in conflict)
        sets = ", ".join(f"{q(c.name)} = excluded.{q(c.name)}" for c in columns if c.name not in conflict)
        tail = f" ON CONFLICT ({target}) " + (f"DO UPDATE SET {sets}" if update and sets else "DO NOTHING")
    cursor = conn.connection.cursor()
    try:
        if conn.dialect.name == "postgresql" and conflict is None:
            with cursor.copy(f"COPY {q(table.name)} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types([_pg_type(c, copy=True) for c in columns])
                copied = [_copy_array(c, v) for c, v in zip(columns, values, strict=True)]
                for row in zip(*copied, strict=True):
                    copy.write_row(row)
        elif conn.dialect.name == "postgresql":
            arrays = ", ".join(f"%b::{_pg_type(c)}[]" for c in columns)
            picks = ", ".join(
                f"u.c{i}::json" if c.name in json_cols else f"u.c{i}" for i, c in enumerate(columns)
            )
            aliases = ", ".join(f"c{i}" for i in range(len(columns)))
            cursor.execute(
                f"INSERT INTO {q(table.name)} ({names}) SELECT {picks} "
                f"FROM unnest({arrays}) AS u({aliases}){tail}",
                [_pg_array(c, v) for c, v in zip(columns, values, strict=True)],
            )
        else:
            marks = ", ".join("?" * len(columns))
            cursor.executemany(
                f"INSERT INTO {q(table.name)} ({names}) VALUES ({marks}){tail}",
                list(zip(*values, strict=True)),
            )
    finally:
        cursor.close()


_INT4 = range(-(2**31), 2**31)


def _copy_array(column: Column[Any], values: list[Any]) -> list[Any]:
    """`_pg_array` for COPY. psycopg's binary int4 dumper wraps a value beyond
    32 bits without a word (2**31 arrives as -2**31), where the INSERT of the
    live path refuses it: a rebuild would store another number than the live
    read model sets aside. Refuse it here as well."""
    if _pg_type(column, copy=True) == "int4":
        present = [v for v in values if v is not None] if column.nullable else values
        if present and (min(present) < _INT4.start or max(present) >= _INT4.stop):
            bad = next(v for v in present if v not in _INT4)
            raise OverflowError(f"{column.table.name}.{column.name}: {bad} is out of range for type integer")
    return _pg_array(column, values)


def _pg_array(column: Column[Any], values: list[Any]) -> list[Any]:
    # psycopg types a list by its items; a float column may hold ints.
    if isinstance(column.type, Float):
        return [None if v is None else float(v) for v in values]
    return values


Condition = tuple[str, str, Any]  # (column, "=" | "<" | "is null", value)
_SQLITE_KEYS = 300  # keys per statement: stays under SQLite's bound-parameter limit


def fetch_by_keys(
    conn: Connection,
    table: Table,
    key_columns: Sequence[str],
    keys: Iterable[tuple[str, ...]],
    where: Sequence[Condition] = (),
    columns: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Rows whose text key columns match any of `keys`, as dicts.

    The projections look up thousands of keys a batch; on PostgreSQL they go
    as arrays in one prepared statement (an expanded IN list is a new, long
    statement for every batch), on SQLite as chunks of row values.
    """
    wanted = sorted(set(keys))
    if not wanted:
        return []
    cols = [table.c[name] for name in columns] if columns else list(table.columns)
    json_cols = [i for i, c in enumerate(cols) if isinstance(c.type, JSON)]
    q = conn.dialect.identifier_preparer.quote
    picks = ", ".join(f"t.{q(c.name)}" for c in cols)
    out: list[tuple[Any, ...]] = []
    cursor = conn.connection.cursor()
    try:
        if conn.dialect.name == "postgresql":
            keys_source, on = _pg_keys(key_columns, q)
            cond, params = _conditions(where, "%s", q)
            cursor.execute(
                f"SELECT {picks} FROM {q(table.name)} AS t JOIN {keys_source} ON {on}"
                + (f" WHERE {cond}" if cond else ""),
                [*_key_arrays(key_columns, wanted), *params],
            )
            out.extend(cursor.fetchall())
            json_cols = []  # psycopg has decoded json already
        else:
            cond, params = _conditions(where, "?", q)
            for part in _parts(wanted, _SQLITE_KEYS):
                cursor.execute(
                    f"SELECT {picks} FROM {q(table.name)} AS t {_sqlite_key_filter(key_columns, part, q)}"
                    + (f" AND {cond}" if cond else ""),
                    [*(v for key in part for v in key), *params],
                )
                out.extend(cursor.fetchall())
    finally:
        cursor.close()
    names = [c.name for c in cols]
    rows = [dict(zip(names, r, strict=True)) for r in out]
    for i in json_cols:
        for r in rows:
            if r[names[i]] is not None:
                r[names[i]] = orjson.loads(r[names[i]])
    return rows


def delete_by_keys(
    conn: Connection, table: Table, key_columns: Sequence[str], keys: Iterable[tuple[str, ...]]
) -> None:
    """Delete the rows whose text key columns match any of `keys`."""
    wanted = sorted(set(keys))
    if not wanted:
        return
    q = conn.dialect.identifier_preparer.quote
    cursor = conn.connection.cursor()
    try:
        if conn.dialect.name == "postgresql":
            keys_source, on = _pg_keys(key_columns, q)
            cursor.execute(
                f"DELETE FROM {q(table.name)} AS t USING {keys_source} WHERE {on}",
                _key_arrays(key_columns, wanted),
            )
        else:
            for part in _parts(wanted, _SQLITE_KEYS):
                cursor.execute(
                    f"DELETE FROM {q(table.name)} AS t {_sqlite_key_filter(key_columns, part, q)}",
                    [v for key in part for v in key],
                )
    finally:
        cursor.close()


def _key_arrays(key_columns: Sequence[str], keys: Sequence[tuple[str, ...]]) -> list[list[str]]:
    return [[key[i] for key in keys] for i in range(len(key_columns))]


def _pg_keys(key_columns: Sequence[str], q: Any) -> tuple[str, str]:
    """The keys as a relation of text arrays (`_key_arrays`, one per key
    column), and the condition matching table `t` to it."""
    arrays = ", ".join("%b::text[]" for _ in key_columns)
    aliases = ", ".join(f"k{i}" for i in range(len(key_columns)))
    on = " AND ".join(f"t.{q(k)} = k.k{i}" for i, k in enumerate(key_columns))
    return f"unnest({arrays}) AS k({aliases})", on


def _sqlite_key_filter(key_columns: Sequence[str], keys: Sequence[tuple[str, ...]], q: Any) -> str:
    row = "(" + ", ".join("?" for _ in key_columns) + ")"
    target = "(" + ", ".join(f"t.{q(k)}" for k in key_columns) + ")"
    return f"WHERE {target} IN (VALUES {', '.join([row] * len(keys))})"


def _conditions(where: Sequence[Condition], mark: str, q: Any) -> tuple[str, list[Any]]:
    parts: list[str] = []
    params: list[Any] = []
    for column, op, value in where:
        if op == "is null":
            parts.append(f"t.{q(column)} IS NULL")
        elif op in ("=", "<"):
            parts.append(f"t.{q(column)} {op} {mark}")
            params.append(value)
        else:
            raise ValueError(f"unsupported condition {op!r}")
    return " AND ".join(parts), params


def _parts(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
