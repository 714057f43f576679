"""Reports through the real CLI on the hand-checked fixture: golden Markdown, Excel
read back with openpyxl, CSV, formula injection, PII masking, custom templates,
the sandbox, reproducibility and --as-of."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
from pathlib import Path

import pytest
from conftest import git
from openpyxl import load_workbook
from report_fixture import write_workspace

GOLDEN = Path(__file__).parent / "golden"
NOW = "2026-04-10T12:00:00+00:00"


@pytest.fixture
def rws(ws: Path) -> Path:
    write_workspace(ws)
    return ws


def normalise(text: str) -> str:
    """Hashes and commits differ as the bundled files evolve; the golden file keeps
    their places but not their values."""
    text = re.sub(r"`[0-9a-f]{40}`", "`<commit>`", text)
    text = re.sub(r"`[0-9a-f]{12}`", "`<commit>`", text)  # the short form some reports print
    return re.sub(r"`[0-9a-f]{16}`", "`<sha256>`", text)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(normalise(text), encoding="utf-8")
    assert normalise(text) == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["compliance", "fca", "cn"])
def test_markdown_reports_match_golden_files(cli, rws, name):
    period = "2026-H1" if name == "fca" else "2026-03"
    done = cli("report", name, "--period", period, "-w", str(rws), "--now", NOW)
    assert done.code == 0, done.err
    check_golden(f"{name}-{period}.md", done.out)


def test_compliance_report_escapes_markdown_and_masks_contacts(cli, rws):
    out = cli("report", "compliance", "--period", "2026-03", "-w", str(rws), "--now", NOW).out
    assert "\\*Great\\* &lt;b&gt;" in out  # a survey comment cannot format or inject HTML
    assert "<b>" not in out
    cases = cli("report", "compliance", "--period", "2026-03", "-f", "csv", "-w", str(rws), "--now", NOW).out
    rows = list(csv.DictReader(io.StringIO(cases)))
    assert {r["Contact"] for r in rows} == {"a***@example.com", "d***@example.org"}
    assert {r["Customer"] for r in rows} == {"A. L.", "D. W."}
    shown = cli(
        "report",
        "compliance",
        "--period",
        "2026-03",
        "-f",
        "csv",
        "--show-pii",
        "-w",
        str(rws),
        "--now",
        NOW,
    ).out
    assert "ann@example.com" in shown and "Ann Lee" in shown


def test_formula_injection_is_text_in_excel_and_csv(cli, rws, tmp_path):
    target = tmp_path / "c.xlsx"
    done = cli(
        "report",
        "compliance",
        "--period",
        "2026-03",
        "-f",
        "xlsx",
        "-o",
        str(target),
        "-w",
        str(rws),
        "--now",
        NOW,
    )
    assert done.code == 0, done.err
    sheet = load_workbook(target)["Cases"]
    titles = {row[11].value: row[11] for row in sheet.iter_rows(min_row=2)}
    cell = titles['=HYPERLINK("http://x","y")']
    assert cell.data_type == "s" and cell.quotePrefix
    out = cli("report", "compliance", "--period", "2026-03", "-f", "csv", "-w", str(rws), "--now", NOW).out
    assert "'=HYPERLINK" in out


def compliance_xlsx(cli, rws, target):
    """The March compliance report of the fixture, as a workbook at ``target``."""
    return cli(
        "report",
        "compliance",
        "--period",
        "2026-03",
        "-f",
        "xlsx",
        "-o",
        str(target),
        "-w",
        str(rws),
        "--now",
        NOW,
    )


def table(sheet) -> tuple[int, list[list]]:
    """(header row number, rows from the header on) of a sheet with a title block:
    the table starts at the row after the first blank one."""
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    blank = next(i for i, row in enumerate(values) if all(v is None for v in row))
    return blank + 2, values[blank + 1 :]


def test_excel_workbook_has_sheets_formats_totals_and_charts(cli, rws, tmp_path):
    target = tmp_path / "c.xlsx"
    assert compliance_xlsx(cli, rws, target).code == 0
    book = load_workbook(target)
    assert book.sheetnames == [  # as docs/reports.md lists them
        "Summary",
        "By category",
        "By channel",
        "By region",
        "By product",
        "SLA",
        "Breaches",
        "Ageing",
        "Escalations",
        "Surveys",
        "Root causes",
        "Trend",
        "Data quality",
        "Cases",
        "About",
    ]
    head = git(rws, "rev-parse", "HEAD").strip()
    for sheet in book.worksheets:  # every sheet opens with the title block
        assert sheet["A1"].value == "Monthly complaints compliance report: 2026-03", sheet.title
        assert sheet["A2"].value == "Firm: Example Consumer Co. Ltd"
        assert sheet["A3"].value.startswith("Period: 2026-03-01 to 2026-03-31 (UTC)")
        assert sheet["A4"].value == f"Data commit: {head}"
        assert sheet["A5"].value.startswith(f"Integrity: audit verify at {head[:12]}: ")
        assert sheet.print_title_rows == "$7:$7"  # the header row repeats on every page
        assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToWidth == 1
        assert sheet.oddFooter.center.text == "Page &P of &N"
        assert sheet.oddFooter.left.text == "Confidential"
    summary = book["Summary"]
    header, rows = table(summary)
    assert header == 7 and summary.freeze_panes == "A8"
    assert rows[0][:3] == ["Measure", "Value", "Note"]
    values = {row[0].value: row[1] for row in summary.iter_rows(min_row=8) if row[0].value}
    # The reconciliation, worked out by hand in tests/report_fixture.py: 1 + 3 + 1 - 4 = 1.
    assert [values[m].value for m in ("Open at start of period", "Received in period")] == [1, 3]
    assert [values[m].value for m in ("Reopened in period", "Closed in period")] == [1, 4]
    assert values["Open at end of period"].value == 1
    assert values["Closed within 3 business days"].value == 0.5
    assert values["Closed within 3 business days"].number_format == "0.0%"
    assert values["Resolution (days), median"].value == pytest.approx(172 / 24)  # as the Markdown
    assert values["Upheld"].value == 1.0
    assert values["Redress paid (GBP)"].value == 50 and values["Redress paid (CNY)"].value == 800
    assert "Redress paid" not in values  # never a total over two currencies
    notes = {row[0].value: row[2].value for row in summary.iter_rows(min_row=8)}
    assert notes["Upheld"] == "1 of 1 closures (3 unknown, left out)"
    assert notes["Open at end of period"] == (
        "1 open at start + 3 received + 1 reopened - 4 closed = 1 open at end"
    )
    labels = [row[0].value for row in summary.iter_rows(min_row=8)]
    assert "Sign-off" in labels and "Prepared by" in labels and "Reviewed by" in labels
    by_category = book["By category"]
    header, rows = table(by_category)
    assert rows[0] == ["Category", "Open at start", "Received", "Share", "Reopened", "Closed", "Open at end"]
    assert rows[1] == ["Billing / price", 0, 2, pytest.approx(2 / 3), 1, 3, 0]
    assert rows[-1] == ["Total", 1, 3, None, 1, 4, 1]  # totals: the sums of the rows
    assert by_category.cell(header + 1, 3).number_format == "#,##0"
    assert by_category.column_dimensions["A"].width == 28
    chart = by_category._charts[0]
    assert chart.legend is None  # one series
    assert chart.x_axis.title is not None and chart.y_axis.title is not None
    assert len(book["Trend"]._charts) == 1
    trend = table(book["Trend"])[1]
    assert trend[1][:3] == ["2025-09", "no data", None]  # before the first case: no data, not 0
    cases = book["Cases"]
    header, rows = table(cases)
    assert cases.auto_filter.ref == f"A{header}:{cases.cell(header, len(rows[0])).column_letter}{header + 3}"
    filed = cases.cell(header + 1, 2)
    assert filed.is_date and filed.number_format == "yyyy-mm-dd hh:mm"
    columns = rows[0]
    by_id = {row[0]: dict(zip(columns, row, strict=True)) for row in rows[1:] if row[0] != "Cases"}
    assert by_id["C-260305-C000003"]["Reopened"] == "yes"  # human labels, not TRUE/FALSE
    assert by_id["C-260305-C000003"]["Currency"] == "CNY"
    assert by_id["C-260302-A000001"]["Resolution (days)"] == pytest.approx(25 / 24, abs=0.01)
    about = {row[0].value: row[1].value for row in book["About"].iter_rows(min_row=8)}
    assert about["Data commit"] == head
    assert about["Customer details masked"] == "yes" and about["Status"] == "final"
    assert about["Firm"] == "Example Consumer Co. Ltd"


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice is not installed")
def test_libreoffice_opens_the_workbook(cli, rws, tmp_path):
    import subprocess

    target = tmp_path / "c.xlsx"
    compliance_xlsx(cli, rws, target)
    subprocess.run(
        [
            "soffice",
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(target),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert (tmp_path / "c.pdf").stat().st_size > 1000


def test_cfpb_csv_has_the_18_columns_and_vocabulary(cli, rws):
    done = cli("report", "cfpb", "--period", "2026-03", "-f", "csv", "-w", str(rws), "--now", NOW)
    assert done.code == 0, done.err
    rows = list(csv.reader(io.StringIO(done.out)))
    assert rows[0] == [
        "Date received",
        "Product",
        "Sub-product",
        "Issue",
        "Sub-issue",
        "Consumer complaint narrative",
        "Company public response",
        "Company",
        "State",
        "ZIP code",
        "Tags",
        "Consumer consent provided?",
        "Submitted via",
        "Date sent to company",
        "Company response to consumer",
        "Timely response?",
        "Consumer disputed?",
        "Complaint ID",
    ]
    by_id = {row[17]: row for row in rows[1:]}
    assert set(by_id) == {"C-260302-A000001", "C-260305-C000003", "C-260325-D000004"}
    assert by_id["C-260302-A000001"][0] == "03/02/2026"
    assert by_id["C-260302-A000001"][14] == "Closed with explanation"
    assert by_id["C-260325-D000004"][14] == "In progress"
    assert by_id["C-260305-C000003"][16] == "Yes"  # reopened -> disputed
    assert by_id["C-260302-A000001"][12] == "Email"


def test_same_commit_gives_the_same_report_and_it_names_its_sources(cli, rws):
    args = ("report", "compliance", "--period", "2026-03", "-w", str(rws), "--now", NOW)
    first, second = cli(*args).out, cli(*args).out
    assert first == second
    head = git(rws, "rev-parse", "HEAD").strip()
    assert head in first
    import hashlib

    rules_hash = hashlib.sha256((rws / "rules.yaml").read_bytes()).hexdigest()
    assert rules_hash[:16] in first


def test_as_of_renders_the_data_of_an_older_commit(cli, rws):
    before = git(rws, "rev-parse", "HEAD").strip()
    done = cli(
        "resolve",
        "C-260325-D000004",
        "--resolution",
        "Refunded",
        "-w",
        str(rws),
        "--now",
        "2026-04-20T10:00:00+00:00",
    )
    assert done.code == 0, done.err
    now = "2026-05-02T00:00:00+00:00"
    current = cli("stats", "--period", "2026-04", "--json", "-w", str(rws), "--now", now).out
    assert '"closed": 1' in current
    old = cli(
        "report",
        "compliance",
        "--period",
        "2026-04",
        "--as-of",
        before,
        "-w",
        str(rws),
        "--now",
        now,
    )
    assert old.code == 0, old.err
    assert f"`{before}`" in old.out and "| Closed in period (closures) | 0 (0 cases) |" in old.out
    by_date = cli(
        "report",
        "compliance",
        "--period",
        "2026-04",
        "--as-of",
        "2026-04-15",
        "-w",
        str(rws),
        "--now",
        now,
    )
    assert f"`{before}`" in by_date.out
    missing = cli("report", "compliance", "--as-of", "2001-01-01", "-w", str(rws), "--now", now)
    assert missing.code == 3 and "no commit at or before" in missing.err


def test_custom_template_without_python(cli, rws):
    folder = rws / "templates" / "reports" / "weekly"
    folder.mkdir(parents=True)
    (folder / "report.yaml").write_text(
        "title: Weekly one-liner\nperiod: month\nformats: {md: r.md.j2, xlsx: r.sheets.yaml.j2}\n"
    )
    (folder / "r.md.j2").write_text(
        "{{ report.title }}: {{ kpis.received }} received, "
        "{{ kpis.closed }} closed, top {{ kpis.top_categories[0].key }}\n"
    )
    (folder / "r.sheets.yaml.j2").write_text(
        "sheets:\n  - name: Open cases\n    rows: oldest_open\n    columns:\n"
        "      - {header: Case, value: row.id}\n"
        "      - {header: Age in weeks, value: 'row.age_days / 7', format: '0.0'}\n"
    )
    listed = cli("report", "--list", "--json", "-w", str(rws)).out
    assert '"weekly"' in listed and '"compliance"' in listed
    done = cli("report", "weekly", "--period", "2026-03", "-w", str(rws), "--now", NOW)
    assert done.out == "Weekly one-liner: 3 received, 4 closed, top billing\n"
    target = rws / "w.xlsx"
    assert (
        cli(
            "report",
            "weekly",
            "--period",
            "2026-03",
            "-f",
            "xlsx",
            "-o",
            str(target),
            "-w",
            str(rws),
            "--now",
            NOW,
        ).code
        == 0
    )
    sheet = load_workbook(target)["Open cases"]
    header, rows = table(sheet)
    assert rows[1][0] == "C-260325-D000004" and sheet.cell(header + 1, 2).number_format == "0.0"
    bad = cli("report", "weekly", "-f", "csv", "-w", str(rws), "--now", NOW)
    assert bad.code == 2 and "has no csv format" in bad.err


@pytest.mark.parametrize(
    "source, message",
    [
        ("{{ ''.__class__.__mro__ }}", "not allowed in a template"),
        ("{{ cycler.__init__.__globals__ }}", "not allowed in a template"),
        ("{% include '../../../rules.yaml' %}", "not found"),
        ("{% include '/etc/passwd' %}", "not found"),
        ("{{ kpis.nonexistent.deeper }}", "r.md.j2:1"),
        ("{% for x in %}", "r.md.j2:1"),
    ],
)
def test_templates_are_sandboxed_and_errors_name_the_line(cli, rws, source, message):
    folder = rws / "templates" / "reports" / "evil"
    folder.mkdir(parents=True)
    (folder / "report.yaml").write_text("formats: {md: r.md.j2}\n")
    (folder / "r.md.j2").write_text(source + "\n")
    done = cli("report", "evil", "--period", "2026-03", "-w", str(rws), "--now", NOW)
    assert done.code == 2, (done.out, done.err)
    assert message in done.err and "Traceback" not in done.err
    assert "root:" not in done.out


def test_bad_input_is_one_clear_line(cli, rws):
    unknown = cli("report", "nosuch", "-w", str(rws))
    assert unknown.code == 3 and "no report named 'nosuch'" in unknown.err
    period = cli("stats", "--period", "2026-13", "-w", str(rws))
    assert period.code == 2 and "--period" in period.err
    fmt = cli("report", "compliance", "-f", "pdf", "-w", str(rws))
    assert fmt.code == 2 and "--format" in fmt.err
    by = cli("stats", "--by", "colour", "-w", str(rws))
    assert by.code == 2 and "--by" in by.err
    folder = rws / "templates" / "reports" / "broken"
    folder.mkdir(parents=True)
    (folder / "report.yaml").write_text("formats: {xlsx: s.yaml.j2}\n")
    (folder / "s.yaml.j2").write_text("sheets:\n  - name: 'a/b'\n    rows: cases\n")
    broken = cli("report", "broken", "-f", "xlsx", "-o", str(rws / "x.xlsx"), "-w", str(rws))
    assert broken.code == 2 and "sheet name" in broken.err and "needs at least one column" in broken.err
    assert not (rws / "x.xlsx").exists()
    # A workbook spec rendered with an alias (a template from another clone) is refused.
    (folder / "s.yaml.j2").write_text(
        "cols: &c [{title: ID, value: id}]\nsheets:\n  - name: A\n    rows: cases\n    columns: *c\n"
    )
    aliased = cli("report", "broken", "-f", "xlsx", "-o", str(rws / "x.xlsx"), "-w", str(rws))
    assert aliased.code == 2 and "(rendered):1: not valid YAML: anchors and aliases" in aliased.err, (
        aliased.err
    )
    assert not (rws / "x.xlsx").exists()


def test_stats_json_and_by(cli, rws):
    import json

    done = cli("stats", "--period", "2026-03", "--by", "category", "--json", "-w", str(rws), "--now", NOW)
    assert done.code == 0, done.err
    data = json.loads(done.out)
    assert data["received"] == 3 and data["closed"] == 4 and data["reopened_in_period"] == 1
    assert data["open_at_start"] + 3 + 1 - 4 == data["open_at_end"] == 1
    assert sum(g["closed"] for g in data["groups"]) == data["closed"]
    assert [g["key"] for g in data["groups"]] == ["billing", "logistics"]
    assert {c["clock"] for c in data["sla"]} == {"first_response", "resolution"}


def test_stats_on_a_terminal_shows_each_figure_its_value_and_what_it_is_based_on(rws):
    import pty
    import subprocess
    import sys

    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "cmtool", "stats", "--period", "2026-03", "-w", str(rws), "--now", NOW],
        stdout=follower,
        stderr=subprocess.PIPE,
        env=env,
        timeout=120,
    )
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(leader)
    text = out.decode()
    assert done.returncode == 0, done.stderr
    lines = {line.split("  ")[0]: line.split() for line in text.splitlines() if "  " in line}
    assert lines["Reopened in period"][3] == "1" and lines["Closed in period"][3] == "4"
    assert "1 open at start + 3 received + 1 reopened - 4 closed = 1 open at end" in text
    assert "Upheld" in lines and "100.0%" in lines["Upheld"] and "unknown," in text


def test_integrity_line_equals_a_full_audit_verify_and_goes_on_from_the_last_one(cli, rws):
    import json

    def line(report: str) -> str:
        return next(row for row in report.splitlines() if row.startswith("| Integrity |"))

    def full() -> dict:
        return json.loads(cli("audit", "verify", "--json", "-w", str(rws)).out)

    first = cli("report", "compliance", "--period", "2026-03", "-w", str(rws), "--now", NOW).out
    verified = full()
    head = git(rws, "rev-parse", "HEAD").strip()
    expected = (
        f"{verified['findings']} findings (see cmtool audit verify) in {verified['commits_checked']} commits"
    )
    assert (
        f"audit verify at `{head[:12]}`: {expected} from the first commit |"
        == line(first)[len("| Integrity | ") :]
    )
    ledger = json.loads((rws / ".git" / "cmtool" / "verified.json").read_text())
    assert ledger["commit"] == head
    # One more action: the next report checks only the new commit, and still agrees.
    done = cli("resolve", "C-260325-D000004", "--resolution", "Refunded", "-w", str(rws), "--now", NOW)
    assert done.code == 0, done.err
    again = cli("report", "compliance", "--period", "2026-03", "-w", str(rws), "--now", NOW).out
    verified, head = full(), git(rws, "rev-parse", "HEAD").strip()
    expected = (
        f"{verified['findings']} findings (see cmtool audit verify) in {verified['commits_checked']} commits"
    )
    assert line(again).endswith(f"`{head[:12]}`: {expected} from the first commit |")
    assert json.loads((rws / ".git" / "cmtool" / "verified.json").read_text())["commit"] == head


@pytest.mark.parametrize(
    "name, period, quality, signed",
    [
        ("compliance", "2026-03", "Data quality", "Sign-off"),
        ("fca", "2026-H1", "Data quality", "Sign-off"),
        ("cn", "2026-03", "数据质量", "审核签字"),
        ("cfpb", "2026-03", "Data quality", "Sign-off"),
    ],
)
def test_every_bundled_workbook_has_title_block_integrity_data_quality_and_sign_off(
    cli, rws, tmp_path, name, period, quality, signed
):
    target = tmp_path / f"{name}.xlsx"
    done = cli(
        "report", name, "--period", period, "-f", "xlsx", "-o", str(target), "-w", str(rws), "--now", NOW
    )
    assert done.code == 0, done.err
    book = load_workbook(target)
    for sheet in book.worksheets:
        block = [sheet.cell(row, 1).value or "" for row in range(1, 6)]
        assert block[0].endswith(period) or period in block[0], (sheet.title, block[0])
        assert any("audit verify at" in text for text in block), (sheet.title, block)
    assert quality in book.sheetnames
    first = book.worksheets[0]
    assert signed in [row[0].value for row in first.iter_rows()]
