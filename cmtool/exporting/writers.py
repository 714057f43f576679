"""Writing an export: xlsx (write-only, memory flat), CSV and JSON.

Formula injection: every cell goes through ``cmtool.store.cellsafe`` (xlsx: a
quoted text cell; CSV: a leading apostrophe, which ``cmtool import`` removes again).
"""

from __future__ import annotations

import io
import json
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from cmtool.exporting.table import ExportTable
from cmtool.model.timefmt import format_time
from cmtool.store.cellsafe import csv_writer, xlsx_cell

DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
MAX_WIDTH = 50


def write_xlsx(
    target: Path, cases: ExportTable, events: ExportTable, about: list[tuple[str, Any]], zone: tzinfo
) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    _sheet(book, "Cases", cases, zone)
    _sheet(book, "Events", events, zone)
    info = book.create_sheet("About")
    for key, value in about:
        info.append([xlsx_cell(info, key), xlsx_cell(info, _xlsx_value(value, zone))])
    book.save(target)


def _sheet(book: Any, title: str, table: ExportTable, zone: tzinfo) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    page = book.create_sheet(title)
    page.freeze_panes = "B2"
    for index, column in enumerate(table.columns, 1):
        sample = [len(str(row.get(column) or "")) for row in table.rows[:200]]
        width = min(MAX_WIDTH, max([len(column), *sample]) + 2)
        page.column_dimensions[get_column_letter(index)].width = 20 if column in table.time_columns else width
    bold = Font(bold=True)
    header = []
    for column in table.columns:
        cell = xlsx_cell(page, column)
        cell.font = bold
        header.append(cell)
    page.append(header)
    for row in table.rows:
        cells = []
        for column in table.columns:
            value = _xlsx_value(row.get(column), zone)
            cell = xlsx_cell(page, value)
            if isinstance(value, datetime):
                cell.number_format = DATETIME_FORMAT
            cells.append(cell)
        page.append(cells)


def _xlsx_value(value: Any, zone: tzinfo) -> Any:
    """Excel has no time zones: times are shown as wall-clock time in ``zone``."""
    if isinstance(value, datetime):
        return value.astimezone(zone).replace(tzinfo=None)
    if isinstance(value, str):
        return _legal(value)
    return value


def _legal(text: str) -> str:
    """Control characters other than tab and newline are not allowed in xlsx."""
    if text.isprintable():
        return text
    return "".join(ch for ch in text if ch in "\t\n" or ch.isprintable() or ord(ch) >= 32)


def csv_text(table: ExportTable) -> str:
    buffer = io.StringIO()
    writer = csv_writer(buffer, lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([_csv_value(row.get(column)) for column in table.columns])
    return buffer.getvalue()


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_time(value)  # ISO 8601 with its offset: nothing lost
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def json_text(cases: list[dict[str, Any]]) -> str:
    return json.dumps(cases, ensure_ascii=False, indent=2, default=str) + "\n"
