"""One row of the sheet -> a Record (field values, extra, provenance) or a Reject (why not)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cached_property
from typing import Any

from cmtool.importing.dates import parse_date
from cmtool.importing.headers import EXTRA, IGNORE, SOURCE_ID, Column, normalize
from cmtool.importing.mapping import ImportMapping
from cmtool.importing.table import RawRow
from cmtool.importing.values import (
    is_empty,
    pad_zip,
    text_of,
    to_bool,
    to_int,
    to_list,
    to_number,
)
from cmtool.model.enums import OPEN_STATUSES, Status
from cmtool.model.fields import FIELDS_BY_NAME
from cmtool.model.timefmt import format_time, parse_time

ZIP_HEADERS = {"zip", "zip code", "zipcode", "postal code", "postcode", "邮编", "邮政编码"}
TITLE_MAX = 120
NO_TEXT = "incomplete record: no title or description in the source"
INCOMPLETE_TAG = "incomplete"  # a record without its issue text, imported with a built title


@dataclass(frozen=True)
class Record:
    row: int
    state: dict[str, Any]  # field -> value, status included; never ``source``
    extra: dict[str, Any]
    source_id: str | None
    row_hash: str
    raw_status: str | None = None  # the sheet's own word when it differs from ours
    origin: dict[str, Any] = field(default_factory=dict)  # source.* columns of a cmtool export
    incomplete: str | None = None  # the data-quality note of a record without its issue text
    unknown_owner: str | None = None  # the sheet's owner when it names nobody rules.yaml knows


@dataclass(frozen=True)
class Reject:
    row: int
    code: str  # stable: TRUNCATED, SHORT_ROW, LONG_ROW, NO_DATE, BAD_DATE, BAD_VALUE, ...
    reason: str


class RowError(ValueError):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code


@dataclass(frozen=True)
class RowConverter:
    columns: list[Column]
    mapping: ImportMapping
    orders: dict[int, str | None]  # column index -> day/month order
    zone: Any  # tzinfo of times written without an offset
    now: datetime
    width: int  # cells in the header row
    strict_width: bool  # CSV: a short row is a broken row; xlsx rows are padded
    title_from: tuple[Column, ...] = ()  # short descriptive columns a missing title is built from
    titles_built: bool = False  # the sheet has no title column: every title is built
    owners: Mapping[str, str] | None = None  # sheet name (normalised) -> person; None: no people listed

    @cached_property
    def _hash_keys(self) -> list[tuple[str, int]]:
        return hash_keys(self.columns)

    def convert(self, raw: RawRow) -> Record | Reject:
        try:
            return self._convert(raw)
        except RowError as exc:
            return Reject(raw.number, exc.code, str(exc))

    def _convert(self, raw: RawRow) -> Record:
        if raw.broken:
            raise RowError(raw.broken_code, raw.broken)
        cells = raw.cells
        if self.strict_width and len(cells) < self.width:
            raise RowError(
                "SHORT_ROW", f"row has {len(cells)} cells, the header has {self.width} (cut short?)"
            )
        if any(not is_empty(c) for c in cells[self.width :]):
            raise RowError(
                "LONG_ROW",
                f"row has {len(cells)} cells, the header has {self.width} "
                "(an unquoted delimiter inside a value?)",
            )
        state: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        origin: dict[str, Any] = {}
        source_id = raw_status = unknown_owner = None
        for column in self.columns:
            value = cells[column.index] if column.index < len(cells) else None
            if is_empty(value) or column.target in (IGNORE, "sla."):
                continue
            if column.target == EXTRA or column.target == "extra.":
                extra[column.key] = _extra_value(column, value)
            elif column.target == "source.":
                origin[column.key] = _extra_value(column, value)
            elif column.target == SOURCE_ID:
                source_id = text_of(value)
            elif column.target == "assignee" and self.owners is not None:
                name = " ".join(text_of(value).split())
                person = self.owners.get(normalize(name)) or self.owners.get(normalize(name).replace(" ", ""))
                if person is None:
                    # Not a person of rules.yaml: an owner cmtool cannot assign (the
                    # action would be refused). Kept under extra and listed.
                    extra[column.header] = unknown_owner = name
                else:
                    state["assignee"] = person
            else:
                converted = self._field(column, value)
                if column.target in ("channel", "priority") and converted is None:
                    extra[column.key] = text_of(value)  # kept; the field gets its default
                    continue
                state[column.target] = converted
                if column.target == "status" and normalize(value) != converted:
                    raw_status = text_of(value)
        incomplete = self._complete(state, cells, source_id, raw.number)
        return Record(
            raw.number,
            state,
            extra,
            source_id,
            hash_cells(self._hash_keys, cells),
            raw_status,
            origin,
            incomplete,
            unknown_owner,
        )

    def _field(self, column: Column, value: Any) -> Any:
        name = column.target
        kind = FIELDS_BY_NAME[name].kind
        where = f"column {column.header!r}"
        try:
            if name in ("status", "channel", "priority", "category"):
                word = text_of(value)
                mapped = self.mapping.lookup(name, word)
                if mapped is None and name == "status":
                    raise RowError(
                        "UNKNOWN_STATUS",
                        f"{where}: status {word!r} is not known (map it under values: status: in --mapping)",
                    )
                return mapped
            if kind == "time":
                moment = parse_date(value, self.orders.get(column.index), self.zone)
                if moment > self.now:
                    raise RowError(
                        "FUTURE_DATE",
                        f"{where}: {format_time(moment)} is after now ({format_time(self.now)})",
                    )
                return format_time(moment)
            if kind == "int":
                return to_int(value)
            if kind == "number":
                return to_number(value)
            if kind == "bool":
                return to_bool(value)
            if kind == "list":
                return to_list(value)
        except RowError:
            raise
        except ValueError as exc:
            code = "BAD_DATE" if kind == "time" else "BAD_VALUE"
            raise RowError(code, f"{where}: {exc}") from None
        text = text_of(value)
        if kind == "text":
            return text + "\n" if "\n" in text else text
        return " ".join(text.split()) if name == "title" else text

    def _complete(
        self, state: dict[str, Any], cells: tuple[Any, ...], source_id: str | None, row: int
    ) -> str | None:
        """Required fields and the agreement of status and dates; returns the
        data-quality note of a record that lacks its issue text."""
        incomplete = None
        if not state.get("title"):
            first = (state.get("description") or "").strip().split("\n", 1)[0]
            if not first:
                first, incomplete = self._built_title(cells, source_id, row)
            state["title"] = first if len(first) <= TITLE_MAX else first[: TITLE_MAX - 1] + "…"
        if incomplete:
            state["tags"] = [*(state.get("tags") or []), INCOMPLETE_TAG]
        if not state.get("filed_at"):
            raise RowError("NO_DATE", "the received date is empty")
        if "status" not in state:
            state["status"] = (
                "closed" if state.get("closed_at") else "resolved" if state.get("resolved_at") else "new"
            )
        if state["status"] == Status.NEW.value and state.get("assignee"):
            state["status"] = Status.ASSIGNED.value  # an open complaint with an owner is assigned
        status = Status(state["status"])
        for name in ("first_response_at", "resolved_at", "closed_at"):
            if state.get(name) and _earlier(state, name):
                raise RowError(
                    "DATE_ORDER", f"{name} {state[name]} is before the received date {state['filed_at']}"
                )
        if status in OPEN_STATUSES and (state.get("resolved_at") or state.get("closed_at")):
            raise RowError(
                "STATUS_DATE", f"status is {status.value} but the row has a resolved or closed date"
            )
        return incomplete

    def _built_title(self, cells: tuple[Any, ...], source_id: str | None, row: int) -> tuple[str, str | None]:
        """A title from the sheet's short descriptive fields, and the data-quality
        note when the record should have had issue text of its own."""
        fallback = [c for c in self.columns if c.target in ("category", "product", "team", "region", EXTRA)]
        for columns in (self.title_from, fallback):
            parts: dict[str, str] = {}  # text -> the header it came from
            for column in columns:
                value = cells[column.index] if column.index < len(cells) else None
                if is_empty(value) or isinstance(value, (date, datetime)):
                    continue
                text = " ".join(text_of(value).split())
                if len(text) <= TITLE_MAX and text not in parts:
                    parts[text] = repr(column.header)
                if len(parts) == 2:
                    break
            if parts:
                title = ": ".join(parts)
                if columns is self.title_from and self.titles_built:
                    return title, None  # the sheet's shape, said once in the decisions
                return title, f"{NO_TEXT}; title built from {' + '.join(parts.values())}"
        title = f"complaint {source_id}" if source_id else f"record on row {row}"
        return f"{title} (no description in the source)", f"{NO_TEXT} or other descriptive field"


def _earlier(state: dict[str, Any], name: str) -> bool:
    return parse_time(state[name]) < parse_time(state["filed_at"])


def _extra_value(column: Column, value: Any) -> Any:
    if normalize(column.header) in ZIP_HEADERS:
        return pad_zip(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    text = text_of(value)
    return text + "\n" if "\n" in text else text


def row_hash(columns: list[Column], cells: tuple[Any, ...]) -> str:
    """A key for a row's content: the same complaint in another export hashes the same."""
    return hash_cells(hash_keys(columns), cells)


def hash_keys(columns: list[Column]) -> list[tuple[str, int]]:
    """(normalised header, index) of the columns a row's content key covers."""
    return [(normalize(c.header), c.index) for c in columns if c.target != "sla."]


def hash_cells(keys: list[tuple[str, int]], cells: tuple[Any, ...]) -> str:
    width = len(cells)
    pairs = sorted(
        (header, text_of(cells[index]))
        for header, index in keys
        if index < width and not is_empty(cells[index])
    )
    blob = json.dumps(pairs, ensure_ascii=False, default=str).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]
