"""Cells of CSV and xlsx files: the one place text is made safe from formula injection.

A spreadsheet runs text that starts with ``= + - @`` (or a tab, CR or LF, or the
full-width forms East Asian input methods type, after any leading spaces) as a
formula or a DDE command: ``=HYPERLINK(...)`` leaks data on a click,
``=cmd|' /C calc'!A0`` runs a program (OWASP, "CSV injection"). Customers write
the text cmtool exports, so every CSV and xlsx writer puts its cells through
``neutralise`` (CSV) or ``xlsx_cell`` / ``xlsx_value`` (xlsx), all deciding with
``is_formula_like``:

- CSV: such text gets a leading apostrophe (OWASP's advice); ``cmtool import``
  removes it again (``restore``), so an export imports back unchanged.
- xlsx: the text is stored as a text cell with Excel's quote prefix: shown exactly,
  never evaluated, read back unchanged.

Numbers stay numbers (``-5`` is not text), so sums and sorting still work.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
_LEADING_SPACE = " \u00a0\u3000"


def is_formula_like(text: str) -> bool:
    return text.lstrip(_LEADING_SPACE).startswith(FORMULA_STARTS)


def neutralise(value: Any) -> Any:
    """A cell a spreadsheet will not run: risky text gets a leading apostrophe."""
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value


def restore(text: str) -> str:
    """Undo ``neutralise`` on text read back from a CSV cmtool (or OWASP advice) wrote."""
    return text[1:] if text.startswith("'") and is_formula_like(text[1:]) else text


class SafeCsvWriter:
    """``csv.writer`` whose every cell goes through ``neutralise``.

    A row holding a carriage return is written with every cell quoted: with a
    ``\n`` line end, csv leaves a bare CR unquoted, and a spreadsheet that starts a
    new row there would read the text after it as a fresh (unneutralised) cell.
    """

    def __init__(self, handle: IO[str], **options: Any) -> None:
        self._writer = csv.writer(handle, **options)
        self._quoted = csv.writer(handle, **{**options, "quoting": csv.QUOTE_ALL})

    def writerow(self, row: Iterable[Any]) -> Any:
        cells = [neutralise(value) for value in row]
        risky = any(isinstance(cell, str) and "\r" in cell for cell in cells)
        return (self._quoted if risky else self._writer).writerow(cells)

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(handle: IO[str], **options: Any) -> SafeCsvWriter:
    return SafeCsvWriter(handle, **options)


def xlsx_cell(page: Any, value: Any) -> Any:
    """An openpyxl write-only cell; formula-like text is stored as quoted text
    (openpyxl would otherwise store any string starting with ``=`` as a formula),
    and text that spells an Excel error (``#N/A``) as the text a customer wrote."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(page, value=value)
    if isinstance(value, str) and (is_formula_like(value) or cell.data_type == "f"):
        cell.data_type = "s"
        cell.quotePrefix = True
    elif cell.data_type == "e":
        cell.data_type = "s"
    return cell


# First characters of text that may be formula-like (its own start or a leading
# space) or an Excel error code.
_RISKY_FIRST = frozenset(start[0] for start in FORMULA_STARTS) | frozenset(_LEADING_SPACE + "#")


def xlsx_value(page: Any, value: Any) -> Any:
    """What a write-only sheet's ``append`` takes for ``value`` when the cell needs
    no style: the value itself, or ``xlsx_cell``'s quoted text cell when it is text
    that could be formula-like. openpyxl stores a plain value exactly as it would the
    same value in a cell of its own, without building one per cell (the bulk of a
    100,000-row sheet)."""
    if type(value) is str and value[:1] not in _RISKY_FIRST:
        return value
    return xlsx_cell(page, value) if isinstance(value, str) else value
