"""What makes a workbook sheet fit to hand to a regulator: a title block above the
table (report, firm, period, as-at, data commit, integrity), print setup (paper
orientation, fit to one page wide, the header row repeated on every page, a footer
with page numbers and the classification label) and a sign-off block."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

WIDE = 6  # sheets with more columns than this print landscape
# The words of the title block, footer and sign-off, by the report's language.
WORDS = {
    "en": {
        "provisional": " (provisional: the period is still running)",
        "firm": "Firm",
        "period": "Period: {first} to {last} ({zone}); figures as at {as_at}",
        "commit": "Data commit",
        "dirty": " (plus uncommitted changes)",
        "integrity": "Integrity",
        "page": "Page &P of &N",
        "sign_off": "Sign-off",
        "columns": ("", "Name", "Signature", "Date"),
        "Prepared by": "Prepared by",
        "Reviewed by": "Reviewed by",
    },
    "zh": {
        "provisional": "（期间未结束，数据为临时数）",
        "firm": "机构名称",
        "period": "报告期间：{first} 至 {last}（{zone}）；数据截至 {as_at}",
        "commit": "数据版本",
        "dirty": "（含未提交的修改）",
        "integrity": "完整性校验",
        "page": "第 &P 页，共 &N 页",
        "sign_off": "审核签字",
        "columns": ("", "姓名", "签字", "日期"),
        "Prepared by": "编制人",
        "Reviewed by": "审核人",
    },
}


def words(report: Mapping[str, Any]) -> dict[str, Any]:
    return WORDS.get(str(report.get("language") or "en")[:2], WORDS["en"])


def title_lines(report: Mapping[str, Any]) -> list[str]:
    """The title block, one text line each (the first is the heading)."""
    say = words(report)
    period = report.get("period") or {}
    heading = f"{report.get('title', '')}: {period.get('label', '')}"
    if report.get("provisional"):
        heading += say["provisional"]
    lines = [heading]
    if report.get("firm"):
        lines.append(f"{say['firm']}: {report['firm']}")
    lines.append(
        say["period"].format(
            first=period.get("first_day"),
            last=period.get("last_day"),
            zone=report.get("timezone"),
            as_at=report.get("as_at"),
        )
    )
    dirty = say["dirty"] if report.get("data_dirty") else ""
    lines.append(f"{say['commit']}: {report.get('data_commit') or '-'}{dirty}")
    integrity = report.get("integrity") or {}
    if integrity.get("text"):
        lines.append(f"{say['integrity']}: {integrity['text']}")
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
    page.oddFooter.center.text = words(report)["page"]
    page.oddFooter.right.text = _footer_text(f"{report.get('title', '')} {period}".strip())


def write_sign_off(page: Any, sign_off: list[Mapping[str, Any]], report: Mapping[str, Any]) -> None:
    """Append the sign-off block: who prepared and who reviewed, each with a date."""
    say = words(report)
    from openpyxl.styles import Border, Font, Side

    bold = Font(bold=True)
    line = Border(bottom=Side(style="thin"))
    page.append([])
    heading = _cell(page, say["sign_off"])
    heading.font = bold
    page.append([heading])
    labels = []
    for text in say["columns"]:
        cell = _cell(page, text)
        cell.font = bold
        labels.append(cell)
    page.append(labels)
    for entry in sign_off:
        role = str(entry.get("role", ""))
        row = [_cell(page, say.get(role, role))]
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
