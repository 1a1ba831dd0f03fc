"""Reading a OneRoster 1.2 CSV bundle (a folder, a zip file, or a zip's bytes)
into tables, with every problem of form found on the way: the manifest, each
file's header, and each value against its column (oneroster_spec.py).

Nothing stops at the first problem: a district fixes its export once, from
the whole list. References between files are checked later (oneroster_plan.py).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from services.imports.oneroster_spec import (
    EXTENSION_PREFIX,
    FILES,
    MANIFEST_VERSION,
    MAX_ID,
    MODES,
    ONEROSTER_VERSION,
    Column,
    value_problem,
)

# A zip's files together may hold at most this much once unpacked: a small
# zip must not unpack into gigabytes (a 50,000-student district is ~60 MiB).
MAX_UNPACKED = 1024 * 1024 * 1024
csv.field_size_limit(1024 * 1024)


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None  # 1 is the header row
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file + (f", line {self.line}" if self.line else "")
        where += f", column {self.column}" if self.column else ""
        return f"{where}: {self.message}"


class BundleError(Exception):
    """The bundle could not be read at all (not a zip, no manifest...)."""


@dataclass
class Table:
    """One file's rows as lists of strings, read through its header."""

    name: str  # e.g. "users"
    mode: str  # bulk | delta
    index: dict[str, int]
    rows: list[list[str]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)

    def get(self, row: list[str], column: str) -> str:
        i = self.index.get(column)
        return "" if i is None else row[i]

    @property
    def file(self) -> str:
        return self.name + ".csv"


@dataclass
class Bundle:
    modes: dict[str, str]  # every file of FILES -> bulk | delta | absent
    tables: dict[str, Table]  # the files present (bulk or delta)


Reader = Callable[[str], bytes | None]  # a file's bytes by name, None when absent


def open_source(path: Path | bytes) -> Reader:
    """A folder, a zip file, or a zip's bytes (HTTP), read lazily by file name."""
    if isinstance(path, Path) and path.is_dir():
        return lambda name: (path / name).read_bytes() if (path / name).is_file() else None
    try:
        archive = zipfile.ZipFile(io.BytesIO(path) if isinstance(path, bytes) else path)
    except (zipfile.BadZipFile, OSError) as e:
        raise BundleError(f"not a folder or a zip file: {e}") from None
    members = {Path(i.filename).name: i for i in archive.infolist() if not i.is_dir()}
    if sum(i.file_size for i in members.values()) > MAX_UNPACKED:
        raise BundleError(f"the zip unpacks to more than {MAX_UNPACKED // 2**20} MiB")

    def read(name: str) -> bytes | None:
        info = members.get(name)
        if info is None:
            return None
        with archive.open(info) as f:
            return f.read(MAX_UNPACKED + 1)

    return read


def read_bundle(read: Reader, progress: Callable[[int], None] | None = None) -> tuple[Bundle, list[Problem]]:
    problems: list[Problem] = []
    raw = read("manifest.csv")
    if raw is None:
        raise BundleError("no manifest.csv: a OneRoster bundle starts with its manifest")
    modes = _manifest(raw, problems)
    tables: dict[str, Table] = {}
    for name, mode in modes.items():
        data = read(name + ".csv")
        if mode == "absent":
            if data is not None:
                problems.append(
                    Problem("manifest.csv", None, "file." + name, f"says absent, but {name}.csv is there")
                )
            continue
        if data is None:
            problems.append(
                Problem("manifest.csv", None, "file." + name, f"says {mode}, but {name}.csv is missing")
            )
            continue
        table = _table(name, mode, data, problems)
        if table is not None:
            tables[name] = table
            if progress:
                progress(len(table.rows))
    return Bundle(modes, tables), problems


def _text(file: str, data: bytes, problems: list[Problem]) -> str | None:
    try:
        return data.decode("utf-8-sig")  # the binding's encoding; a BOM is tolerated
    except UnicodeDecodeError as e:
        problems.append(Problem(file, None, None, f"not UTF-8 (byte {e.start}): save the file as UTF-8"))
        return None


def _manifest(data: bytes, problems: list[Problem]) -> dict[str, str]:
    f = "manifest.csv"
    text = _text(f, data, problems)
    rows = list(csv.reader(io.StringIO(text or "", newline="")))
    if not rows or rows[0] != ["propertyName", "value"]:
        problems.append(Problem(f, 1, None, "the header must be propertyName,value"))
        rows = [[]]
    props: dict[str, str] = {}
    for n, row in enumerate(rows[1:], start=2):
        if len(row) != 2:
            problems.append(Problem(f, n, None, f"{len(row)} fields where the header has 2"))
        elif row[0] in props:
            problems.append(Problem(f, n, "propertyName", f"{row[0]!r} is given twice"))
        else:
            props[row[0]] = row[1]
    if props.get("manifest.version") != MANIFEST_VERSION:
        problems.append(Problem(f, None, "manifest.version", f"must be {MANIFEST_VERSION}"))
    if not ONEROSTER_VERSION.fullmatch(props.get("oneroster.version", "")):
        got = props.get("oneroster.version")
        problems.append(
            Problem(f, None, "oneroster.version", f"must be 1.2 (this import reads 1.2), got {got!r}")
        )
    modes: dict[str, str] = {}
    for name in FILES:
        mode = props.get("file." + name)
        if mode not in MODES:
            problems.append(
                Problem(f, None, "file." + name, f"must be one of {', '.join(MODES)}, got {mode!r}")
            )
            mode = "absent"
        modes[name] = mode
    return modes


def _table(name: str, mode: str, data: bytes, problems: list[Problem]) -> Table | None:
    file = name + ".csv"
    text = _text(file, data, problems)
    if text is None:
        return None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        problems.append(Problem(file, 1, None, "empty: the header row is missing"))
        return None
    columns = {c.name: c for c in FILES[name]}
    index: dict[str, int] = {}
    for i, col in enumerate(header):
        if col in index:
            problems.append(Problem(file, 1, col, "the column is there twice"))
        elif col not in columns and not col.startswith(EXTENSION_PREFIX):
            problems.append(Problem(file, 1, col, f"not a column of the OneRoster 1.2 {file}"))
        index.setdefault(col, i)
    missing = [c.name for c in FILES[name] if c.required and c.name not in index]
    problems.extend(Problem(file, 1, c, "a required column is missing") for c in missing)
    if missing:
        return None
    table = Table(name, mode, index)
    seen: dict[str, int] = {}
    at = 1
    key = index["sourcedId"]
    for row in reader:
        line = at + 1
        at = reader.line_num
        if len(row) != len(header):
            if row:  # a blank line is no record
                problems.append(
                    Problem(file, line, None, f"{len(row)} fields where the header has {len(header)}")
                )
            continue
        sid = row[key]
        if sid in seen:
            problems.append(Problem(file, line, "sourcedId", f"{sid!r} is also on line {seen[sid]}"))
            continue
        seen[sid] = line
        # Kept even with problems (the import is refused anyway): the checks
        # between files then report no echo of a problem already listed.
        table.rows.append(row)
        table.lines.append(line)
    for column in FILES[name]:
        if column.name in index:
            _column_problems(table, column, problems)
    return table


def _column_problems(table: Table, column: Column, problems: list[Problem]) -> None:
    """Each distinct value of the column checked once (a district's files
    repeat the same schools, classes and roles on every line), then the
    lines holding a bad one found."""
    i = table.index[column.name]
    bad: dict[str, str] = {}
    distinct = {row[i] for row in table.rows}
    if column.kind == "id" and "" not in distinct:
        # Most values of a district's files are ids: those that pass this
        # cheap test (id_problem's own) need no other.
        distinct = {v for v in distinct if len(v) > MAX_ID or not v.isprintable() or v != v.strip()}
    for value in distinct:
        why = _value_problem(table.mode, column, value)
        if why is not None:
            bad[value] = why
    if bad:
        for row, line in zip(table.rows, table.lines, strict=True):
            if row[i] in bad:
                problems.append(Problem(table.file, line, column.name, bad[row[i]]))


def _value_problem(mode: str, column: Column, value: str) -> str | None:
    if not value:
        if column.required:
            return "blank, but required"
        if mode == "delta" and column.name in ("status", "dateLastModified"):
            return "blank, but required in a delta file"
        return None
    why = value_problem(column, value)
    if why is None and column.name == "status" and mode == "bulk" and value != "active":
        why = "a bulk file lists what exists: tobedeleted belongs in a delta file"
    return why
