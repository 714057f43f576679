"""Excel workbooks (.xlsx) through openpyxl in read-only mode: real date cells and numbers."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path
from xml.etree.ElementTree import ParseError

from cmtool.errors import UsageError
from cmtool.importing.table import RawRow, SourceTable, file_sha256
from cmtool.importing.xlsxguard import check_archive, check_shape, formulas_without_values

# What a damaged workbook makes openpyxl or zipfile raise while its rows are read.
_BROKEN = (
    ParseError,
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    KeyError,
    IndexError,
    TypeError,
    ValueError,
    AttributeError,
)


def read_xlsx(path: Path, sheet: str | None = None) -> SourceTable:
    """Rows of ``sheet``, or of the first sheet that holds anything."""
    from openpyxl import load_workbook

    check_archive(path)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except _BROKEN as exc:
        raise UsageError(
            f"{path.name}: not a readable .xlsx workbook ({str(exc)[:120]})",
            hint="open it in Excel and save it again as .xlsx",
        ) from None
    try:
        return _first_sheet(path, book, sheet)
    except _BROKEN as exc:
        raise UsageError(
            f"{path.name}: the workbook is damaged ({type(exc).__name__}: {str(exc)[:120]})",
            hint="open it in Excel and save it again as .xlsx",
        ) from None
    finally:
        book.close()


def _first_sheet(path: Path, book, sheet: str | None) -> SourceTable:
    names = book.sheetnames
    if sheet is not None and sheet not in names:
        raise UsageError(f"{path.name} has no sheet {sheet!r}", hint=f"sheets: {', '.join(names)}")
    for name in [sheet] if sheet else names:
        worksheet = book[name]
        if not hasattr(worksheet, "iter_rows"):  # a chart sheet
            continue
        # Some writers store a wrong sheet size; read what is really there.
        worksheet.reset_dimensions()
        rows = []
        for number, values in enumerate(worksheet.iter_rows(min_row=1, values_only=True), start=1):
            check_shape(path.name, number, len(values))
            rows.append(RawRow(number, tuple(_clean(v) for v in values)))
        while rows and rows[-1].is_blank:
            rows.pop()
        # Empty trailing cells are not stored in a workbook: a row is never "short".
        width = max((len(row.cells) for row in rows), default=0)
        rows = [RawRow(r.number, r.cells + (None,) * (width - len(r.cells))) for r in rows]
        if rows or sheet:
            notes = (f"sheet {name!r}", *_uncalculated(path, worksheet))
            return SourceTable(path.name, file_sha256(path), name, tuple(rows), notes)
    raise UsageError(f"{path.name}: every sheet is empty")


def _uncalculated(path: Path, worksheet) -> list[str]:
    part = getattr(worksheet, "_worksheet_path", None)
    if not part:
        return []
    count, where = formulas_without_values(path, part.lstrip("/"))
    if not count:
        return []
    shown = ", ".join(where) + (", ..." if count > len(where) else "")
    return [
        f"{count} formula cells have no saved result and read as empty ({shown}): "
        "open the workbook in Excel and save it to store the results"
    ]


def _clean(value):
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n")
    return value
