"""Limits a workbook must keep before it is parsed, and what parsing cannot see.

An .xlsx is a zip: a 1 MB file can hold a sheet of hundreds of megabytes (a
"zip bomb"). Before openpyxl reads anything, the sizes the archive declares
are checked, and the reader stops at Excel's own row and column limits. A
formula cell that was never calculated (a workbook written by a program, not
saved by Excel) has no stored value: such cells are found and reported, not
read silently as empty.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.etree.ElementTree import iterparse

from cmtool.errors import UsageError

MAX_UNCOMPRESSED = 512 << 20  # bytes of all the workbook's parts once unzipped
MAX_RATIO = 200  # unzipped / zipped size of one part; text compresses about 10x
MAX_ROWS = 1_048_576  # Excel's limits: nothing a spreadsheet shows is larger
MAX_COLUMNS = 16_384
_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def check_archive(path: Path) -> None:
    """Refuse a workbook whose parts unzip to more than the limits allow."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UsageError(
            f"{path.name}: not a readable .xlsx workbook ({exc})",
            hint="open it in Excel and save it again as .xlsx",
        ) from None
    total = sum(part.file_size for part in parts)
    if total > MAX_UNCOMPRESSED:
        raise UsageError(
            f"{path.name}: the workbook unzips to {total >> 20} MB, more than the "
            f"{MAX_UNCOMPRESSED >> 20} MB an import reads",
            hint="split it, or save the sheet as CSV",
        )
    for part in parts:
        if part.file_size > (1 << 20) and part.file_size > MAX_RATIO * max(part.compress_size, 1):
            raise UsageError(
                f"{path.name}: {part.filename} unzips to {part.file_size >> 20} MB from "
                f"{part.compress_size >> 10} KB; a real sheet does not compress like that",
                hint="open it in Excel and save it again, or save the sheet as CSV",
            )


def check_shape(name: str, rows: int, width: int) -> None:
    if rows > MAX_ROWS:
        raise UsageError(f"{name}: more than {MAX_ROWS:,} rows, Excel's limit", hint="split the file")
    if width > MAX_COLUMNS:
        raise UsageError(f"{name}: row with {width:,} columns, more than Excel's {MAX_COLUMNS:,}")


def formulas_without_values(path: Path, part: str, limit: int = 5) -> tuple[int, list[str]]:
    """How many formula cells of the sheet ``part`` have no stored result, and the
    first few of their addresses (e.g. ``D7``)."""
    with zipfile.ZipFile(path) as archive:
        if not _mentions_formula(archive, part):
            return 0, []
        count, where = 0, []
        with archive.open(part) as stream:
            for _, element in iterparse(stream, events=("end",)):
                if element.tag != f"{_NS}c":
                    if element.tag == f"{_NS}row":
                        element.clear()
                    continue
                formula = element.find(f"{_NS}f")
                value = element.find(f"{_NS}v")
                if formula is not None and (value is None or value.text is None):
                    count += 1
                    if len(where) < limit:
                        where.append(element.get("r") or "?")
    return count, where


def _mentions_formula(archive: zipfile.ZipFile, part: str) -> bool:
    """A quick look for any ``<f`` element before parsing the sheet's XML."""
    tail = b""
    with archive.open(part) as stream:
        while chunk := stream.read(1 << 20):
            if b"<f>" in tail + chunk or b"<f " in tail + chunk:
                return True
            tail = chunk[-3:]
    return False
