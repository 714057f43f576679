"""The import mapping: which column is which field, and which sheet words mean which status.

A mapping file (``--mapping m.yaml``) overrides or completes the automatic one::

    header_row: 3                  # optional: the row holding the headers
    dates: monthfirst              # optional: auto (default), dayfirst or monthfirst
    columns:                       # header as written -> field, source_id, extra or ignore
      Date received: filed_at
      Ticket: source_id
    values:                        # per field: the sheet's word -> ours
      status: {Done: closed, Parked: waiting}
      channel: {Kiosk: in_person}
      category: {Billing problem: billing}

``cmtool import FILE --show-mapping`` prints the mapping it would use in this shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cmtool.errors import DataError
from cmtool.importing.dates import DAYFIRST, MONTHFIRST
from cmtool.importing.headers import EXTRA, IGNORE, SOURCE_ID, Column, normalize
from cmtool.importing.values import DEFAULT_TABLES
from cmtool.model.fields import FIELD_NAMES, FIELDS_BY_NAME
from cmtool.store.yamlstyle import scalar

TARGETS = (SOURCE_ID, EXTRA, IGNORE, *(n for n in FIELD_NAMES if n not in ("source", "extra")))
VALUE_FIELDS = ("status", "channel", "priority", "category")


@dataclass(frozen=True)
class ImportMapping:
    columns: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # user's, normalised
    date_order: str | None = None
    header_row: int | None = None  # 1-based, as a spreadsheet shows it

    def lookup(self, name: str, raw: str) -> str | None:
        """Our word for the sheet's ``raw`` in field ``name`` (None when unknown)."""
        key = normalize(raw)
        mine = self.values.get(name, {})
        if key in mine:
            return mine[key]
        if name == "category":
            return raw.strip()  # categories are the team's own words unless mapped
        return DEFAULT_TABLES[name].get(key)

    def with_order(self, order: str | None) -> ImportMapping:
        if order is None:
            return self
        return ImportMapping(self.columns, self.values, order, self.header_row)


def mapping_from_data(data: Any, path: str) -> ImportMapping:
    """Check a parsed mapping file; every problem is reported at once."""
    if data is None:
        return ImportMapping()
    problems: list[str] = []
    if not isinstance(data, Mapping):
        raise DataError(f"{path}: a mapping file must be a mapping (columns:, values:, dates:)")
    for key in data:
        if key not in ("columns", "values", "dates", "header_row"):
            problems.append(f"unknown key {key!r} (use columns, values, dates, header_row)")
    columns = data.get("columns") or {}
    if not isinstance(columns, Mapping):
        problems.append("columns: must map headers to fields")
        columns = {}
    for header, target in columns.items():
        if target not in TARGETS:
            problems.append(
                f"columns: {header!r} -> {target!r} is not a field (use one of: {', '.join(TARGETS)})"
            )
    values: dict[str, dict[str, str]] = {}
    for name, table in (data.get("values") or {}).items():
        if name not in VALUE_FIELDS or not isinstance(table, Mapping):
            problems.append(
                f"values: {name!r} must be one of {', '.join(VALUE_FIELDS)} with a mapping of words"
            )
            continue
        choices = FIELDS_BY_NAME[name].choices
        table = {word: target for word, target in table.items() if target is not None}
        for word, target in table.items():
            if choices and target not in choices:
                problems.append(f"values.{name}: {word!r} -> {target!r} is not one of {', '.join(choices)}")
        values[name] = {normalize(word): str(target) for word, target in table.items()}
    order = data.get("dates", "auto")
    if order not in ("auto", DAYFIRST, MONTHFIRST, None):
        problems.append(f"dates: {order!r} must be auto, dayfirst or monthfirst")
    header_row = data.get("header_row")
    if header_row is not None and (not isinstance(header_row, int) or header_row < 1):
        problems.append(f"header_row: {header_row!r} must be a row number (1 or more)")
    if problems:
        more = f" (and {len(problems) - 1} more: {'; '.join(problems[1:])})" if len(problems) > 1 else ""
        raise DataError(f"{path}: {problems[0]}{more}", hint="see: cmtool import FILE --show-mapping")
    return ImportMapping(
        {str(k): str(v) for k, v in columns.items()}, values, None if order == "auto" else order, header_row
    )


def render_mapping(
    source: str,
    header_row: int,
    columns: list[Column],
    found: Mapping[str, Mapping[str, str | None]],
    order_notes: list[str],
    date_order: str | None,
) -> str:
    """The mapping in use as a YAML file the user can edit and pass back with --mapping."""
    lines = [
        f"# cmtool import mapping for {source}",
        "# Edit, then: cmtool import FILE --mapping THIS_FILE",
        "# Targets: a field name, source_id (the sheet's complaint ID), extra (kept on the",
        "# case under its header) or ignore.",
        f"header_row: {header_row}",
        f"dates: {date_order or 'auto'}",
    ]
    lines += [f"# {note}" for note in order_notes]
    lines.append("columns:")
    for column in columns:
        if column.target.endswith("."):
            note = {
                "source.": "provenance of a cmtool export: kept as source.origin",
                "extra.": "extra column of a cmtool export",
                "sla.": "derived by a cmtool export: recomputed, not imported",
            }[column.target]
            lines.append(f"  # {column.header}: {note}")
            continue
        how = {
            "auto": "",
            "mapping": "  # from --mapping",
            "content": f"  # from the content: {column.why}",
            "unmapped": "  # no field: kept under extra",
        }[column.how]
        lines.append(f"  {scalar(column.header)}: {column.target}{how}")
    lines.append("values:")
    for name in VALUE_FIELDS:
        words = found.get(name)
        if not words:
            continue
        lines.append(f"  {name}:")
        for word, target in words.items():
            if target is None:
                fallback = (
                    "rows with it are rejected"
                    if name == "status"
                    else f"kept in extra, {name} set to the default"
                )
                lines.append(f"    {scalar(word)}: null  # unknown: {fallback}")
            else:
                lines.append(f"    {scalar(word)}: {scalar(target)}")
    return "\n".join(lines) + "\n"
