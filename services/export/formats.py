"""Encoders: batches of rows in, chunks of bytes out, never the whole export at once.

Parquet goes through a sink that hands back each row group's bytes as soon as
pyarrow has written them, so a Parquet export streams like the text formats.
Timestamps are `timestamp[us, tz=UTC]`, ids strings, numbers int64 or
float64, lists `list<string>`, so pandas and DuckDB read the file as it is.
In CSV a list is its items joined by `;` (an empty list, an empty cell) and
null an empty cell; in NDJSON a list is a JSON array and null is null.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, Literal

import orjson
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from services.export.columns import Batch, Col

Format = Literal["ndjson", "csv", "parquet"]
FORMATS: tuple[Format, ...] = ("ndjson", "csv", "parquet")
MEDIA_TYPES: dict[Format, str] = {
    "ndjson": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
}
ROW_GROUP = 50_000  # rows per Parquet row group: large enough to scan fast, small enough to hold
LIST_SEPARATOR = ";"  # between a list's items in a CSV cell

_ARROW: dict[str, pa.DataType] = {
    "int": pa.int64(),
    "str": pa.string(),
    "ts": pa.timestamp("us", tz="UTC"),
    "bool": pa.bool_(),
    "float": pa.float64(),
    "list": pa.list_(pa.string()),
}


def arrow_schema(columns: Sequence[Col]) -> pa.Schema:
    return pa.schema([pa.field(c.name, _ARROW[c.kind], nullable=c.nullable) for c in columns])


def encode(fmt: Format, columns: Sequence[Col], batches: Iterable[Batch]) -> Iterator[bytes]:
    if fmt == "ndjson":
        return _ndjson(columns, batches)
    if fmt == "csv":
        return _csv(columns, batches)
    return _parquet(columns, batches)


def _ndjson(columns: Sequence[Col], batches: Iterable[Batch]) -> Iterator[bytes]:
    names = [c.name for c in columns]
    for batch in batches:
        # The declared columns only, in their order. orjson writes datetimes
        # as RFC 3339 with their offset.
        yield b"".join(orjson.dumps({n: row[n] for n in names}) + b"\n" for row in batch)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        # A null item (a class without a course) is an empty item, as null is an empty cell.
        return LIST_SEPARATOR.join("" if v is None else v for v in value)
    return value


def _csv(columns: Sequence[Col], batches: Iterable[Batch]) -> Iterator[bytes]:
    names = [c.name for c in columns]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(names)
    for batch in batches:
        writer.writerows([_cell(row[n]) for n in names] for row in batch)
        yield buf.getvalue().encode()
        buf.seek(0)
        buf.truncate()
    if buf.tell():
        yield buf.getvalue().encode()


class _Sink:
    """A write-only file for pyarrow that keeps only what was written since the last take()."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._written = 0
        self.closed = False

    def write(self, data: bytes | memoryview) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._written += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._written

    def flush(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


def _parquet(columns: Sequence[Col], batches: Iterable[Batch]) -> Iterator[bytes]:
    schema = arrow_schema(columns)
    names = [c.name for c in columns]
    sink = _Sink()
    stream = pa.PythonFile(sink, mode="w")
    writer = pq.ParquetWriter(stream, schema, compression="zstd")
    pending: dict[str, list[Any]] = {n: [] for n in names}

    def flush(rows: int) -> bytes:
        """Write the first `rows` pending rows as one row group; keep the rest."""
        table = pa.Table.from_pydict(
            {c.name: pa.array(pending[c.name][:rows], type=_ARROW[c.kind]) for c in columns}, schema=schema
        )
        writer.write_table(table, row_group_size=rows)
        for n in names:
            del pending[n][:rows]
        return sink.take()

    try:
        for batch in batches:
            for row in batch:
                for n in names:
                    pending[n].append(row[n])
            while len(pending[names[0]]) >= ROW_GROUP:
                yield flush(ROW_GROUP)
        if pending[names[0]]:
            yield flush(len(pending[names[0]]))
        writer.close()
        yield sink.take()
    finally:
        # Closing the PythonFile matters: left to the interpreter's exit, pyarrow aborts.
        if writer.is_open:
            writer.close()
        stream.close()
