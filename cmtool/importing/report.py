"""What an import did, row by row: the counts, the decisions, the rejects file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cmtool.importing.rows import Record, Reject
from cmtool.importing.values import text_of
from cmtool.store.cellsafe import csv_writer


@dataclass
class ImportReport:
    file: str
    sha256: str
    sheet: str | None
    header_row: int  # 1-based
    data_rows: int = 0
    blank_rows: int = 0
    imported: list[str] = field(default_factory=list)  # new case IDs
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0  # already imported, nothing to change
    duplicates: list[Reject] = field(default_factory=list)  # same content as an earlier row
    rejected: list[Reject] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)  # what was decided and why
    dry_run: bool = False
    commit: str | None = None
    columns: list[dict[str, Any]] = field(default_factory=list)  # each column's field, evidence, samples
    categories: list[str] = field(default_factory=list)  # how the sheet's category words were matched
    new_categories: dict[str, str] = field(default_factory=dict)  # taxonomy entries added: key -> label
    unknown_owners: dict[str, int] = field(default_factory=dict)  # sheet name -> rows
    incomplete: int = 0  # cases imported without issue text, tagged incomplete

    def note_owners(self, records: list[Record], checked: bool) -> None:
        """Count the records without issue text and the owners nobody maps to."""
        self.incomplete = sum(1 for r in records if r.incomplete)
        if checked:
            for record in records:
                if record.unknown_owner:
                    self.unknown_owners[record.unknown_owner] = (
                        self.unknown_owners.get(record.unknown_owner, 0) + 1
                    )

    @property
    def already_present(self) -> int:
        return len(self.updated) + self.unchanged

    def accounted(self) -> bool:
        """Every data row is exactly one of: imported, updated, unchanged, duplicate, rejected."""
        total = len(self.imported) + self.already_present + len(self.duplicates) + len(self.rejected)
        return total == self.data_rows

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "sha256": self.sha256,
            "sheet": self.sheet,
            "header_row": self.header_row,
            "data_rows": self.data_rows,
            "blank_rows": self.blank_rows,
            "imported": len(self.imported),
            "updated": len(self.updated),
            "unchanged": self.unchanged,
            "already_present": self.already_present,
            "duplicates": len(self.duplicates),
            "rejected": len(self.rejected),
            "dry_run": self.dry_run,
            "commit": self.commit,
            "decisions": self.decisions,
            "columns": self.columns,
            "categories": self.categories,
            "new_categories": self.new_categories,
            "unknown_owners": self.unknown_owners,
            "incomplete": self.incomplete,
            "case_ids": self.imported,
            "updated_ids": self.updated,
            "rejects": [vars(r) for r in sorted(self.duplicates + self.rejected, key=lambda r: r.row)],
        }


def write_rejects(
    path: Path, header: tuple[Any, ...], rejects: list[Reject], cells_by_row: dict[int, tuple[Any, ...]]
) -> None:
    """A CSV of the rows not taken: why, then the row as it was (fix it and import again).

    UTF-8 with a BOM so Excel shows Chinese text right.
    """
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv_writer(handle)
        writer.writerow(["row", "code", "reason", *(text_of(h) if h is not None else "" for h in header)])
        for reject in sorted(rejects, key=lambda r: r.row):
            cells = cells_by_row.get(reject.row, ())
            writer.writerow(
                [
                    reject.row,
                    reject.code,
                    reject.reason,
                    *("" if c is None else text_of(c) for c in cells),
                ]
            )
