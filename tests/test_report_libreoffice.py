"""Every bundled workbook opens cleanly in LibreOffice: converted to PDF headless
without errors, and the first printed page names the report and its period (read
back from the PDF, and rendered to a picture that is not blank).

.ci/run installs LibreOffice Calc and poppler-utils when they are missing; the test
skips, saying why, only when they could not be installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from report_fixture import write_workspace

NOW = "2026-04-10T12:00:00+00:00"
# report -> (period, what its first page must say)
# (the footer: page numbers and the classification label from rules.yaml)
BUNDLED = {
    "compliance": (
        "2026-03",
        [
            "Monthly complaints compliance report: 2026-03",
            "Example Consumer Co. Ltd",
            "Page 1 of",
            "Confidential",
        ],
    ),
    "fca": ("2026-H1", ["FCA complaints return (DISP 1 Annex 1R): 2026-H1", "Page 1 of", "Confidential"]),
    "cn": ("2026-03", ["投诉处理情况报告: 2026-03", "机构名称: Example Consumer Co. Ltd", "第 1 页"]),
    "cfpb": ("2026-03", ["CFPB-shaped complaint data: 2026-03", "Page 1 of"]),
}
MISSING = [tool for tool in ("soffice", "pdftotext", "pdftoppm") if not shutil.which(tool)]


@pytest.mark.skipif(bool(MISSING), reason=f"not installed: {', '.join(MISSING)} (.ci/run installs them)")
def test_every_bundled_workbook_converts_and_its_first_page_names_report_and_period(cli, ws, tmp_path):
    write_workspace(ws)
    books = []
    for name, (period, _) in BUNDLED.items():
        target = tmp_path / f"{name}.xlsx"
        done = cli(
            "report", name, "--period", period, "-f", "xlsx", "-o", str(target), "-w", str(ws), "--now", NOW
        )
        assert done.code == 0, done.err
        books.append(target)
    out = tmp_path / "pdf"
    converted = subprocess.run(
        [
            "soffice",
            "--headless",
            "--norestore",
            f"-env:UserInstallation=file://{tmp_path}/profile",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            *map(str, books),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert converted.returncode == 0, converted.stderr
    assert "error" not in converted.stderr.lower(), converted.stderr
    for name, (_period, wanted) in BUNDLED.items():
        pdf = out / f"{name}.pdf"
        assert pdf.is_file() and pdf.stat().st_size > 1000, f"{name}: no PDF"
        first_page = subprocess.run(
            ["pdftotext", "-f", "1", "-l", "1", "-layout", str(pdf), "-"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        for text in wanted:
            assert text in first_page, (name, text, first_page[:500])
        picture = render_first_page(pdf, tmp_path / name)
        assert dark_share(picture) > 0.0005, f"{name}: the first page renders blank"


def render_first_page(pdf: Path, stem: Path) -> Path:
    """The first page as a greyscale picture (PGM: a header, then one byte a pixel)."""
    subprocess.run(
        ["pdftoppm", "-f", "1", "-l", "1", "-r", "50", "-gray", "-singlefile", str(pdf), str(stem)],
        check=True,
        timeout=60,
    )
    return stem.with_suffix(".pgm")


def dark_share(picture: Path) -> float:
    data = picture.read_bytes()
    fields = data.split(maxsplit=4)  # P5, width, height, maxval, pixels
    assert fields[0] == b"P5"
    width, height = int(fields[1]), int(fields[2])
    pixels = fields[4][: width * height]
    return sum(1 for value in pixels if value < 128) / len(pixels)
