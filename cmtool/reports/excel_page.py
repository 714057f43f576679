"""What makes a workbook sheet fit to hand to a regulator: a title block above the
table (report, firm, period, as-at, data commit, integrity), print setup (paper
orientation, fit to one page wide, the header row repeated on every page, a footer
with page numbers and the classification label) and a sign-off block."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

WIDE = 6  # sheets with more columns than this print landscape


def title_lines(report: Mapping[str, Any]) -> list[str]:
    """The title block, one text line each (the first is the heading)."""
    period = report.get("period") or {}
    heading = f"{report.get('title', '')}: {period.get('label', '')}"
    if report.get("provisional"):
        heading += " (provisional: the period is still running)"
    lines = [heading]
    if report.get("firm"):
        lines.append(f"Firm: {report['firm']}")
    lines.append(
        f"Period: {period.get('first_day')} to {period.get('last_day')} ({report.get('timezone')});"
        f" figures as at {report.get('as_at')}"
    )
    commit = report.get("data_commit") or "none"
    dirty = " (plus uncommitted changes)" if report.get("data_dirty") else ""
    lines.append(f"Data commit: {commit}{dirty}")
    integrity = report.get("integrity") or {}
    if integrity.get("text"):
        lines.append(f"Integrity: {integrity['text']}")
    return lines


def write_title_block(page: Any, report: Mapping[str, Any]) -> int:
    """Append the title block and a blank row; return how many rows it took."""
    from openpyxl.styles import Font

    lines = title_lines(report)
    for index, text in enumerate(lines):
        cell = _cell(page, text)
        cell.font = Font(bold=True, size=14) if index == 0 else Font(italic=True, color="444444")
        page.append([cell])
    page.append([])
    return len(lines) + 1


def print_setup(page: Any, report: Mapping[str, Any], columns: int, header_row: int) -> None:
    page.page_setup.orientation = "landscape" if columns > WIDE else "portrait"
    page.page_setup.paperSize = "9"  # A4
    page.page_setup.fitToWidth = 1
    page.page_setup.fitToHeight = 0  # as many pages tall as it takes
    page.sheet_properties.pageSetUpPr.fitToPage = True
    page.print_title_rows = f"{header_row}:{header_row}"
    period = (report.get("period") or {}).get("label", "")
    page.oddFooter.left.text = _footer_text(report.get("classification") or "")
    page.oddFooter.center.text = "Page &P of &N"
    page.oddFooter.right.text = _footer_text(f"{report.get('title', '')} {period}".strip())


def write_sign_off(page: Any, sign_off: list[Mapping[str, Any]]) -> None:
    """Append the sign-off block: who prepared and who reviewed, each with a date."""
    from openpyxl.styles import Border, Font, Side

    bold = Font(bold=True)
    line = Border(bottom=Side(style="thin"))
    page.append([])
    heading = _cell(page, "Sign-off")
    heading.font = bold
    page.append([heading])
    labels = []
    for text in ("", "Name", "Signature", "Date"):
        cell = _cell(page, text)
        cell.font = bold
        labels.append(cell)
    page.append(labels)
    for entry in sign_off:
        row = [_cell(page, str(entry.get("role", "")))]
        for key in ("name", "signature", "date"):
            cell = _cell(page, str(entry.get(key) or ""))
            cell.border = line
            row.append(cell)
        page.append(row)


def _cell(page: Any, text: str) -> Any:
    """A text cell that is never run as a formula, without control characters (the
    firm's name and labels come from rules.yaml, which arrives from other clones)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    from cmtool.store.cellsafe import xlsx_cell

    return xlsx_cell(page, ILLEGAL_CHARACTERS_RE.sub("", text)[:32767])


def _footer_text(text: str) -> str:
    # "&" starts a code in Excel headers and footers; a literal one is "&&".
    printable = "".join(ch for ch in text if ch.isprintable())
    return printable.replace("&", "&&")[:80]
