"""A source table: the rows of one sheet or CSV file, as read, with where they came from."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RawRow:
    """One record of the file. ``number`` is the row a spreadsheet shows (1-based);
    ``broken`` says why the reader could not take it whole (e.g. a truncated record)."""

    number: int
    cells: tuple[Any, ...]
    broken: str | None = None
    broken_code: str = "TRUNCATED"  # the reject code when ``broken``

    @property
    def is_blank(self) -> bool:
        return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in self.cells)


@dataclass(frozen=True)
class SourceTable:
    name: str  # file name as the user gave it (no folders: provenance, not a path)
    sha256: str
    sheet: str | None  # None for CSV
    rows: tuple[RawRow, ...]
    notes: tuple[str, ...] = field(default=())  # what the reader detected (encoding, delimiter)
    ends_cleanly: bool = True  # the text ends with a line break (a CSV not cut off mid-record)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
