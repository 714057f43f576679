"""Excel workbooks from a sheet specification, with openpyxl in write-only mode
(memory stays flat however many rows a sheet has).

Every sheet gets a bold, frozen header row, column widths, number and date
formats, an optional totals row and an optional native chart. Text that a
spreadsheet would run as a formula (starting with = + - @ tab or CR) is stored as
a text cell with Excel's quote prefix, so it is shown, never evaluated.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Callable
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any

from jinja2.sandbox import ImmutableSandboxedEnvironment
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import BarChart, LineChart, PieChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from cmtool.reports.excel_page import print_setup, title_lines, write_sign_off, write_title_block
from cmtool.reports.sheetspec import Chart, Sheet, WorkbookSpec
from cmtool.reports.tables import column_getters, iter_cells, sheet_rows
from cmtool.store.cellsafe import xlsx_cell, xlsx_value

DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"
HEADER_FILL = "DDEBF7"
MAX_WIDTH = 60
WIDTH_SAMPLE = 200  # rows looked at to guess a column's width


def write_workbook(
    spec: WorkbookSpec,
    env: ImmutableSandboxedEnvironment,
    context: dict[str, Any],
    target: Path,
    zone: tzinfo,
    where: str,
    tick: Callable[[int], None] | None = None,
) -> None:
    book = Workbook(write_only=True)
    _set_properties(book, spec.properties)
    for index, sheet in enumerate(spec.sheets):
        _write_sheet(book, sheet, env, context, zone, where, tick, sign_off=index == 0)
    book.save(target)


def _write_sheet(
    book: Any,
    sheet: Sheet,
    env: ImmutableSandboxedEnvironment,
    context: dict[str, Any],
    zone: tzinfo,
    where: str,
    tick: Callable[[int], None] | None,
    sign_off: bool = False,
) -> None:
    rows = sheet_rows(env, sheet, context, where)
    getters = column_getters(env, sheet, where)
    page = book.create_sheet(sheet.name)
    sample = list(itertools.islice(iter_cells(rows, getters, context), WIDTH_SAMPLE))
    for index, column in enumerate(sheet.columns, 1):
        width = column.width or _guess_width(column.header, [r[index - 1] for r in sample])
        page.column_dimensions[get_column_letter(index)].width = width
    report = context.get("report")
    # The title block sits above the table: rows in the specification (freeze,
    # chart anchor) count from the table's header row, wherever it lands.
    offset = len(title_lines(report)) + 1 if isinstance(report, dict) else 0
    header_row = offset + 1
    if sheet.freeze:  # write-only sheets take panes before any row
        page.freeze_panes = _shift(sheet.freeze, offset)
    if isinstance(report, dict):
        print_setup(page, report, len(sheet.columns), header_row)
        write_title_block(page, report)

    bold = Font(bold=True)
    header = []
    for column in sheet.columns:
        cell = xlsx_cell(page, _text(column.header))
        cell.font = bold
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        header.append(cell)
    page.append(header)

    totals = [_Total(column.total) for column in sheet.columns]
    # ``format: row.key`` takes each row's number format from the row (mixed rows).
    per_row = [c.format[4:] if c.format and c.format.startswith("row.") else None for c in sheet.columns]
    plan = [(key, None if key else column.format) for column, key in zip(sheet.columns, per_row, strict=True)]
    summed = [(index, total) for index, total in enumerate(totals) if total.how is not None]
    cells = iter_cells(rows, getters, context)
    for count, (row, values) in enumerate(zip(rows, cells, strict=True), 1):
        mapping = row if isinstance(row, dict) else {}
        page.append(
            [
                _entry(page, value, mapping.get(key) if key else number_format, zone)
                for (key, number_format), value in zip(plan, values, strict=True)
            ]
        )
        for index, total in summed:
            total.add(values[index])
        if tick and count % 500 == 0:
            tick(500)
    if tick:
        tick(len(rows) % 500)

    if sheet.totals:
        line = Side(style="thin")
        row = []
        for index, (column, key, total) in enumerate(zip(sheet.columns, per_row, totals, strict=True)):
            value = sheet.totals if index == 0 else total.result()
            cell = _cell(page, value, None if key else column.format, zone)
            cell.font = bold
            cell.border = Border(top=line)
            row.append(cell)
        page.append(row)
    if sheet.filter and rows:
        last = get_column_letter(len(sheet.columns))
        page.auto_filter.ref = f"A{header_row}:{last}{header_row + len(rows)}"
    if sign_off and isinstance(context.get("sign_off"), list):
        write_sign_off(page, context["sign_off"], report if isinstance(report, dict) else {})
    if sheet.chart and rows:
        anchor = _shift(sheet.chart.anchor, offset) if sheet.chart.anchor else None
        page.add_chart(
            _chart(page, sheet, sheet.chart, len(rows), header_row),
            anchor or f"{get_column_letter(len(sheet.columns) + 2)}{header_row}",
        )


def _entry(page: Any, value: Any, number_format: str | None, zone: tzinfo) -> Any:
    """A table cell as ``append`` takes it: nothing when empty (a blank needs no
    number format), a styled cell when it has a number format (dates and times
    always do), else the plain value when it is safe."""
    if value is None:
        return None
    value = _excel_value(value, zone)
    if number_format or isinstance(value, date):  # a datetime is a date too
        return _styled(page, value, number_format)
    return xlsx_value(page, value)


def _cell(page: Any, value: Any, number_format: str | None, zone: tzinfo) -> Any:
    return _styled(page, _excel_value(value, zone), number_format)


def _styled(page: Any, value: Any, number_format: str | None) -> Any:
    cell = xlsx_cell(page, value)
    if number_format:
        cell.number_format = number_format
    elif isinstance(value, datetime):
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, date):
        cell.number_format = DATE_FORMAT
    return cell


def _excel_value(value: Any, zone: tzinfo) -> Any:
    kind = type(value)  # the common cases first, by exact type (a bool is not an int here)
    if kind is str:
        return _text(value)
    if value is None or kind is int or kind is float:
        return value
    if isinstance(value, datetime):
        # Excel has no time zones: show the local time of the report's zone.
        return value.astimezone(zone).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, (list, tuple)):
        return _text(", ".join(str(item) for item in value))
    if isinstance(value, dict):
        return _text(", ".join(f"{k}: {v}" for k, v in value.items()))
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float, date)):
        return value
    return _text(str(value))


def _text(value: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", value)[:32767]


class _Total:
    def __init__(self, how: str | None) -> None:
        self.how = how
        self.numbers: list[float] = []
        self.count = 0

    def add(self, value: Any) -> None:
        if self.how is None or value is None or value == "":
            return
        self.count += 1
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            self.numbers.append(value)

    def result(self) -> Any:
        numbers = self.numbers
        if self.how == "count":
            return self.count
        if self.how is None or not numbers:
            return None
        if self.how == "sum":
            return sum(numbers)
        if self.how == "average":
            return sum(numbers) / len(numbers)
        return min(numbers) if self.how == "min" else max(numbers)


def _shift(cell: str, rows: int) -> str:
    """``A2`` moved down ``rows`` rows."""
    letters = cell.rstrip("0123456789")
    return f"{letters}{int(cell[len(letters) :]) + rows}"


def _chart(page: Any, sheet: Sheet, spec: Chart, count: int, header_row: int = 1) -> Any:
    headers = [column.header for column in sheet.columns]
    if spec.type == "line":
        chart = LineChart()
    elif spec.type == "pie":
        chart = PieChart()
    else:
        chart = BarChart()
        chart.type = "bar" if spec.type == "bar" else "col"
    chart.title = spec.title or None
    for header in spec.values:
        column = headers.index(header) + 1
        data = Reference(page, min_col=column, min_row=header_row, max_row=header_row + count)
        chart.add_data(data, titles_from_data=True)
    labels = headers.index(spec.categories) + 1
    chart.set_categories(Reference(page, min_col=labels, min_row=header_row + 1, max_row=header_row + count))
    if len(spec.values) == 1 and spec.type != "pie":
        chart.legend = None  # one series: the title says what it is
    if spec.type != "pie":
        chart.y_axis.title = spec.y_title or (spec.values[0] if len(spec.values) == 1 else "Complaints")
        chart.x_axis.title = spec.x_title or spec.categories
        # openpyxl hides axes unless told (delete=False), which LibreOffice honours.
        chart.x_axis.delete = False
        chart.y_axis.delete = False
    chart.width, chart.height = 18, 9
    return chart


def _guess_width(header: str, values: list[Any]) -> float:
    longest = max([_display_width(header)] + [_display_width(_shown(v)) for v in values])
    return float(min(MAX_WIDTH, max(8, longest + 2)))


def _shown(value: Any) -> str:
    if isinstance(value, datetime):
        return "2026-01-01 00:00"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return "" if value is None else str(value)


def _display_width(text: str) -> int:
    """East Asian wide characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _set_properties(book: Any, properties: dict[str, str]) -> None:
    for key in ("title", "subject", "creator", "description", "keywords", "category"):
        if key in properties:
            setattr(book.properties, key, properties[key])
    book.properties.creator = properties.get("creator", "cmtool")
