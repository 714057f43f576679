"""Reading a spreadsheet file of any supported kind into a ``SourceTable``: the
one place that knows which reader takes which file extension."""

from __future__ import annotations

from pathlib import Path

from cmtool.errors import NotFound, UsageError
from cmtool.importing.csvread import read_csv
from cmtool.importing.table import SourceTable
from cmtool.importing.xlsxread import read_xlsx


def read_table(path: Path, sheet: str | None = None, encoding: str | None = None) -> SourceTable:
    """Read a .csv/.tsv/.txt or .xlsx/.xlsm file; raises UsageError/NotFound with one clear line."""
    if not path.exists():
        raise NotFound(f"{path}: no such file")
    if not path.is_file():
        raise UsageError(f"{path}: not a file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        if encoding:
            raise UsageError("--encoding applies to CSV files only")
        return read_xlsx(path, sheet)
    if suffix == ".xls":
        raise UsageError(
            f"{path}: the old .xls format is not supported", hint="save it from Excel as .xlsx or CSV"
        )
    if sheet:
        raise UsageError("--sheet applies to .xlsx files only")
    return read_csv(path, encoding, tab=suffix == ".tsv")
