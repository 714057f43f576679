"""Excel workbooks (.xlsx) through openpyxl in read-only mode: real date cells and numbers."""

from __future__ import annotations

import zipfile
from pathlib import Path

from cmtool.errors import UsageError
from cmtool.importing.table import RawRow, SourceTable, file_sha256


def read_xlsx(path: Path, sheet: str | None = None) -> SourceTable:
    """Rows of ``sheet``, or of the first sheet that holds anything."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UsageError(
            f"{path.name}: not a readable .xlsx workbook ({exc})",
            hint="open it in Excel and save it again as .xlsx",
        ) from None
    try:
        names = book.sheetnames
        if sheet is not None and sheet not in names:
            raise UsageError(f"{path.name} has no sheet {sheet!r}", hint=f"sheets: {', '.join(names)}")
        for name in [sheet] if sheet else names:
            worksheet = book[name]
            if not hasattr(worksheet, "iter_rows"):  # a chart sheet
                continue
            # Some writers store a wrong sheet size; read what is really there.
            worksheet.reset_dimensions()
            rows = [
                RawRow(number, tuple(_clean(v) for v in values))
                for number, values in enumerate(worksheet.iter_rows(min_row=1, values_only=True), start=1)
            ]
            while rows and rows[-1].is_blank:
                rows.pop()
            # Empty trailing cells are not stored in a workbook: a row is never "short".
            width = max((len(row.cells) for row in rows), default=0)
            rows = [RawRow(r.number, r.cells + (None,) * (width - len(r.cells))) for r in rows]
            if rows or sheet:
                return SourceTable(path.name, file_sha256(path), name, tuple(rows), (f"sheet {name!r}",))
    finally:
        book.close()
    raise UsageError(f"{path.name}: every sheet is empty")


def _clean(value):
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n")
    return value
