"""CSV from one sheet of a sheet specification: header, then one line per row.

No totals row (a CSV is data for another program). Times are ISO 8601 unless the
template formats them; text a spreadsheet would run as a formula gets a leading
apostrophe.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import IO, Any

from jinja2.sandbox import ImmutableSandboxedEnvironment

from cmtool.errors import UsageError
from cmtool.reports.sheetspec import WorkbookSpec
from cmtool.reports.tables import column_getters, iter_cells, sheet_rows
from cmtool.store.cellsafe import csv_writer


def write_csv(
    spec: WorkbookSpec,
    env: ImmutableSandboxedEnvironment,
    context: dict[str, Any],
    handle: IO[str],
    where: str,
    sheet_name: str | None = None,
    tick: Callable[[int], None] | None = None,
) -> None:
    sheet = spec.sheets[0]
    if sheet_name:
        chosen = [s for s in spec.sheets if s.name == sheet_name]
        if not chosen:
            raise UsageError(f"{where}: no sheet named {sheet_name!r} for the CSV")
        sheet = chosen[0]
    rows = sheet_rows(env, sheet, context, where)
    getters = column_getters(env, sheet, where)
    writer = csv_writer(handle)
    writer.writerow([column.header for column in sheet.columns])
    for count, values in enumerate(iter_cells(rows, getters, context), 1):
        writer.writerow([_plain(value) for value in values])
        if tick and count % 500 == 0:
            tick(500)
    if tick:
        tick(len(rows) % 500)


def _plain(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value
