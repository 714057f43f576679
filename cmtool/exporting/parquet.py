"""Parquet tables of cases and events: the columns, their exact Arrow types, the writer.

Types are chosen so that nothing is lost and no engine has to guess: instants are
``timestamp[us, tz=UTC]`` with the offset they were written with in a column of
its own (``<name>_offset``, minutes east of UTC), money is ``decimal128(18, 4)``
beside its ISO 4217 currency, words from a closed set are dictionary strings,
lists are lists, and maps or free values are JSON text. ``docs/import.md`` lists
every column; a test holds it to this module.

pyarrow is imported only here, when a parquet export runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmtool.errors import UsageError
from cmtool.model.fields import FIELDS

INSTALL_HINT = "pip install 'cmtool[parquet]' (or: pip install pyarrow)"
MONEY_PRECISION, MONEY_SCALE = 18, 4  # amounts take at most 4 decimals (model.money)
# Strings of a state field that are free text, not words from a small set.
FREE_TEXT = frozenset({"title", "customer", "contact"})
# Whole numbers of a case file may reach model.schema.MAX_NUMBER (10**12): int64.
KINDS = {"str": "enum", "text": "text", "enum": "enum", "int": "int64", "bool": "bool"}
KINDS |= {"number": "money", "list": "list", "map": "json", "time": "time"}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # text, enum, time, offset, int32, int64, bool, money, list, json, clocks, changes
    meaning: str


COMMIT_COLUMNS = (
    Column("data_commit", "enum", "the commit the data was read at"),
    Column("data_generation", "int64", "commits in that commit's history: higher is later"),
)


def _state_columns() -> list[Column]:
    columns = []
    for field in FIELDS:
        kind = "text" if field.name in FREE_TEXT else KINDS[field.kind]
        columns.append(Column(field.name, kind, field.help or field.name.replace("_", " ")))
        if kind == "time":
            columns.append(
                Column(f"{field.name}_offset", "offset", f"UTC offset {field.name} was written with")
            )
    return columns


CASE_COLUMNS: tuple[Column, ...] = (
    *COMMIT_COLUMNS,
    Column("id", "text", "case ID"),
    Column("removed", "bool", "the case file was deleted since --since: a tombstone, other columns null"),
    *_state_columns(),
    Column(
        "responded_at", "time", "first response as the KPIs count it: first_response_at, else first closure"
    ),
    Column("first_closed_at", "time", "first move into resolved or closed"),
    Column("reopened", "int32", "moves from resolved or closed back to open"),
    Column("escalations", "int32", "escalations (escalate actions and level rises)"),
    Column("event_count", "int32", "events in the timeline"),
    Column("last_event_at", "time", "time of the last event"),
    Column("last_event_at_offset", "offset", "UTC offset the last event was written with"),
    Column("clocks", "clocks", "SLA clocks: clock, due_at, warn_at, stopped (met or missed), advisory"),
    Column("clocks_paused", "bool", "a pause is going on: due moments are as of the export and move later"),
)

EVENT_COLUMNS: tuple[Column, ...] = (
    *COMMIT_COLUMNS,
    Column("case_id", "text", "case ID"),
    Column("seq", "int32", "position in the case's timeline, from 1"),
    Column("event_at", "time", "when it happened (the event's at; AT is a keyword in SQL)"),
    Column("event_at_offset", "offset", "UTC offset the time was written with"),
    Column("actor", "enum", "who did it"),
    Column("action", "enum", "what was done (file, assign, note, close, ...)"),
    Column("changes", "changes", "changed fields: field, old and new value as JSON"),
    Column("note", "text", "the note (personal: masked unless opened)"),
    Column("rule", "enum", "the rule that made the event (sweeps, routing), if any"),
    Column("details", "json", "other keys of the event as a JSON object"),
)


def arrow():
    """pyarrow, or a UsageError saying how to install it."""
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError as exc:
        raise UsageError("parquet export needs pyarrow, which is not installed", hint=INSTALL_HINT) from exc
    return pyarrow


def arrow_type(kind: str) -> Any:
    pa = arrow()
    simple = {
        "text": pa.string(),
        "enum": pa.dictionary(pa.int32(), pa.string()),
        "time": pa.timestamp("us", tz="UTC"),
        "offset": pa.int16(),
        "int32": pa.int32(),
        "int64": pa.int64(),
        "bool": pa.bool_(),
        "money": pa.decimal128(MONEY_PRECISION, MONEY_SCALE),
        "list": pa.list_(pa.string()),
        "json": pa.string(),
    }
    if kind in simple:
        return simple[kind]
    time = pa.timestamp("us", tz="UTC")
    if kind == "clocks":
        return pa.list_(
            pa.struct(
                [
                    ("clock", pa.string()),
                    ("due_at", time),
                    ("warn_at", time),
                    ("stopped", pa.string()),
                    ("advisory", pa.bool_()),
                ]
            )
        )
    if kind == "changes":
        return pa.list_(pa.struct([("field", pa.string()), ("old", pa.string()), ("new", pa.string())]))
    raise ValueError(f"unknown column kind {kind!r}")


def schema(columns: Sequence[Column], metadata: Mapping[str, str]) -> Any:
    pa = arrow()
    return pa.schema([pa.field(c.name, arrow_type(c.kind)) for c in columns], metadata=dict(metadata))


class TableWriter:
    """One parquet file written batch by batch (a row group each), so memory stays
    flat; it appears under its name only once complete."""

    def __init__(self, target: Path, columns: Sequence[Column], metadata: Mapping[str, str]) -> None:
        pa = arrow()
        self.pa = pa
        self.columns = tuple(columns)
        self.schema = schema(columns, metadata)
        self.target = target
        self.temp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        self.writer = pa.parquet.ParquetWriter(self.temp, self.schema, compression="zstd")
        self.rows = 0

    def write(self, batch: Mapping[str, list[Any]]) -> None:
        """``batch`` maps every column name to its values (one list per column)."""
        count = len(batch[self.columns[0].name])
        if not count:
            return
        arrays = [self._array(c, batch[c.name]) for c in self.columns]
        self.writer.write_batch(self.pa.RecordBatch.from_arrays(arrays, schema=self.schema))
        self.rows += count

    def _array(self, column: Column, values: list[Any]) -> Any:
        if column.kind == "enum":
            return self.pa.array(values, self.pa.string()).dictionary_encode()
        return self.pa.array(values, arrow_type(column.kind))

    def close(self) -> None:
        self.writer.close()
        os.replace(self.temp, self.target)

    def abort(self) -> None:
        self.writer.close()
        self.temp.unlink(missing_ok=True)


def read_metadata(path: Path) -> dict[str, str]:
    """The key-value metadata of a parquet file an export wrote."""
    pq = arrow().parquet
    try:
        raw = pq.read_schema(path).metadata or {}
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: not a readable parquet file ({exc})") from exc
    return {k.decode(): v.decode() for k, v in raw.items() if not k.startswith(b"ARROW:")}


def empty_batch(columns: Iterable[Column]) -> dict[str, list[Any]]:
    return {c.name: [] for c in columns}
