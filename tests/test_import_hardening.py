"""cmtool import on hostile and broken input: mixed encodings, zip bombs, huge fields,
uncalculated formulas, cut-off files; and a fuzz test of the importer."""

from __future__ import annotations

import json
import signal
import zipfile
from pathlib import Path

import pytest
import yaml
from conftest import git
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from cmtool.errors import CmtoolError
from cmtool.services import importer
from cmtool.services.context import make_context


def run_import(cli, ws: Path, file: Path, *args: str):
    result = cli("import", str(file), "-w", str(ws), "--json", *args)
    assert "Traceback" not in result.err and "internal error" not in result.err, result.err
    return result.code, (json.loads(result.out) if result.out else {}), result.err


def titles(ws: Path) -> list[str]:
    return sorted(
        yaml.safe_load(p.read_text(encoding="utf-8"))["title"] for p in (ws / "cases").rglob("C-*.yaml")
    )


def test_a_csv_mixing_utf8_and_gbk_rejects_the_rows_not_in_its_encoding(cli, ws, tmp_path):
    file = tmp_path / "mixed.csv"
    file.write_bytes(
        b"id,date,title\n"
        + "1,2024-03-01,空调不制冷\n".encode()
        + "2,2024-03-02,发票开错了\n".encode("gbk")
        + "3,2024-03-03,快递丢件\n".encode()
    )
    code, report, _ = run_import(cli, ws, file)
    assert code == 1 and report["imported"] == 2 and report["rejected"] == 1
    assert report["rejects"] == [
        {
            "row": 3,
            "code": "BAD_ENCODING",
            "reason": "line 3 is not in the file's encoding (utf-8): the file mixes text encodings",
        }
    ]
    assert any("mixes text encodings" in d and "--encoding" in d for d in report["decisions"])
    assert titles(ws) == ["快递丢件", "空调不制冷"]  # no mojibake anywhere
    # Named explicitly, the GBK row is taken and the UTF-8 ones are refused.
    other = tmp_path / "other-ws"
    assert cli("init", str(other)).code == 0
    code, report, _ = run_import(cli, other, file, "--encoding", "gbk")
    assert code == 1 and [r["row"] for r in report["rejects"]] == [2, 4]
    assert titles(other) == ["发票开错了"]
    # A header not in the file's encoding stops the import: nothing can be read right.
    header = tmp_path / "header.csv"
    header.write_bytes("编号,投诉日期,投诉内容\n".encode() + "1,2024-03-01,空调不制冷\n".encode("gbk") * 3)
    code, _, err = run_import(cli, other, header)
    assert code == 2 and "the header (row 1) is not in the file's encoding (gb18030)" in err


def test_an_xlsx_zip_bomb_is_refused_before_parsing(cli, ws, tmp_path):
    file = tmp_path / "bomb.xlsx"
    book = Workbook()
    book.active.append(["Date received", "Issue"])
    book.save(file)
    # Replace the sheet by 40 MB of rows that deflate to a few hundred KB.
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
    with zipfile.ZipFile(file) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    sheet = next(n for n in parts if n.startswith("xl/worksheets/"))
    parts[sheet] = parts[sheet].replace(b"</sheetData>", row * (40_000_000 // len(row)) + b"</sheetData>")
    with zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)
    assert file.stat().st_size < 1_000_000
    code, _, err = run_import(cli, ws, file)
    assert code == 2 and "a real sheet does not compress like that" in err
    assert len(err.strip().splitlines()) <= 2  # the error and its hint


def test_huge_fields_and_too_many_columns_are_one_line_errors(cli, ws, tmp_path):
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"c{i}" for i in range(16_385)) + "\n" + ",".join("x" * 16_385) + "\n")
    code, _, err = run_import(cli, ws, wide)
    assert code == 2 and "16,385 columns, more than Excel's 16,384" in err
    huge = tmp_path / "huge.csv"
    with open(huge, "wb") as handle:
        handle.write(b'Date received,Issue\n2024-01-01,"')
        handle.write(b"x" * ((64 << 20) + 16))
        handle.write(b'"\n')
    code, _, err = run_import(cli, ws, huge)
    assert code == 2 and "line 2: field larger than field limit" in err and "at most 64 MB" in err
    assert git(ws, "status", "--porcelain") == "" and not list((ws / "cases").rglob("*.yaml"))


def test_formula_cells_without_a_saved_value_are_reported(cli, ws, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["Date received", "Issue", "Redress"])
    sheet.append(["2024-01-05", "Double charge", "=10*2"])  # openpyxl stores no result
    sheet.append(["2024-01-06", "Late parcel", 5])
    file = tmp_path / "formulas.xlsx"
    book.save(file)
    code, report, _ = run_import(cli, ws, file, "--dry-run")
    assert code == 0
    assert any(
        d.startswith("1 formula cells have no saved result") and "(C2)" in d for d in report["decisions"]
    )


def test_a_last_row_without_trailing_cells_is_taken_and_a_cut_off_one_is_refused(cli, ws, tmp_path):
    clean_end = tmp_path / "short-last.csv"
    clean_end.write_text(
        "id,date,title,status,owner\n1,2024-01-02,Broken kettle,closed,bob\n2,2024-01-03,Late parcel\n"
    )
    code, report, _ = run_import(cli, ws, clean_end, "--dry-run")
    assert code == 0 and report["imported"] == 2
    assert any("row 3 (the last) has 3 of 5 cells" in d for d in report["decisions"])
    cut = tmp_path / "cut.csv"
    cut.write_text("id,date,title,status,owner\n1,2024-01-02,Broken kettle,closed,bob\n2,2024-01-03,Late par")
    code, report, _ = run_import(cli, ws, cut, "--dry-run")
    assert code == 1 and report["imported"] == 1
    assert report["rejects"][0]["row"] == 3 and report["rejects"][0]["code"] == "TRUNCATED"
    assert "ends inside row 3" in report["rejects"][0]["reason"]
    # A short row that is not the last is still a broken row.
    middle = tmp_path / "middle.csv"
    middle.write_text("id,date,title,status\n1,2024-01-02\n2,2024-01-03,Late parcel,open\n")
    code, report, _ = run_import(cli, ws, middle, "--dry-run")
    assert code == 1 and report["rejects"][0]["code"] == "SHORT_ROW"


def test_columns_recognised_by_content_when_headers_say_nothing(cli, ws, tmp_path):
    file = tmp_path / "export.csv"
    file.write_text(
        "Col1,Col2,Col3,Col4,Col5\n"
        'A-17,2024-02-01 09:00,2024-02-03 10:00,Closed,"The heater stopped after two days, please refund."\n'
        "A-18,2024-02-02 11:30,,Open,My parcel was left in the rain and everything inside is wet.\n"
        'A-19,2024-02-02 15:10,2024-02-04 08:00,Closed,"Charged twice for one order, I want my money back."\n'
    )
    result = cli("import", str(file), "-w", str(ws), "--dry-run")
    assert result.code == 0, result.err
    out = result.out
    assert "'Col1' -> source_id (every one of 3 values is different" in out
    assert (
        "'Col2' -> filed_at (100% of the cells are dates; the earliest date of the row in 3 of 3 rows)" in out
    )
    assert "'Col4' -> status (100% of the cells are status words)" in out
    assert "'Col3' -> closed_at (dates on 2 resolved or closed rows and on none of 1 open ones)" in out
    assert "'Col5' -> description (free text" in out
    assert "e.g. 'A-17', 'A-18', 'A-19'" in out
    code, report, _ = run_import(cli, ws, file)
    assert code == 0 and report["imported"] == 3
    assert "My parcel was left in the rain and everything inside is wet." in titles(ws)


def test_naive_times_are_read_in_the_workspace_zone_not_utc(cli, ws, tmp_path):
    file = tmp_path / "sh.csv"
    file.write_text("Created Date,Summary\n2024-05-06 09:00,Screen cracked\n")
    env = {"CMTOOL_NOW": ""}  # the real clock: the zone comes from rules.yaml, not from --now
    result = cli("import", str(file), "-w", str(ws), "--json", env=env)
    assert result.code == 0, result.err
    (path,) = (ws / "cases").rglob("C-*.yaml")
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["filed_at"] == "2024-05-06T09:00:00+08:00"
    bad = cli("import", str(file), "-w", str(ws), "--timezone", "Mars/Olympus")
    assert bad.code == 2 and "is not a time zone" in bad.err


# --- fuzz: only data errors, never a crash, a hang or a write outside the workspace ---

CELL_TEXT = st.characters(blacklist_categories=("Cc", "Cs"))  # what a workbook can hold
ROWS = st.lists(
    st.lists(
        st.one_of(
            st.text(CELL_TEXT, max_size=30),
            st.sampled_from(["2024-01-02", "03/04/2020", "Closed", "=1+1", ""]),
        ),
        max_size=8,
    ),
    max_size=12,
)


class Hang(Exception):
    pass


def _alarm(_signum, _frame):
    raise Hang


@pytest.fixture(scope="module")
def fuzz_ws(tmp_path_factory):
    import subprocess
    import sys

    root = tmp_path_factory.mktemp("fuzz") / "ws"
    subprocess.run([sys.executable, "-m", "cmtool", "init", str(root)], check=True, capture_output=True)
    return root


def _import_once(ws: Path, file: Path, dry_run: bool) -> None:
    ctx = make_context(ws, "alice", "2025-11-21T17:30:00+08:00")
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(20)
    try:
        importer.import_file(ctx, file, importer.Options(dry_run=dry_run))
    except CmtoolError:
        pass  # a data error with a message: what bad input must give
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _outside_untouched(ws: Path, before: set[Path]) -> None:
    after = {p for p in ws.parent.rglob("*") if ".git" not in p.parts}
    written = {p.relative_to(ws.parent) for p in after - before}
    assert all(p.parts[:2] in (("ws", "cases"),) for p in written), written
    assert git(ws, "status", "--porcelain") == ""


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=600), suffix=st.sampled_from([".csv", ".tsv", ".xlsx"]))
def test_fuzz_random_bytes(fuzz_ws, data, suffix):
    file = fuzz_ws.parent / f"input{suffix}"
    file.write_bytes(data)
    before = {p for p in fuzz_ws.parent.rglob("*") if ".git" not in p.parts}
    _import_once(fuzz_ws, file, dry_run=True)
    _outside_untouched(fuzz_ws, before)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=ROWS,
    header=st.sampled_from([["Date received", "Issue", "Status"], ["id", "投诉时间", "投诉内容"], []]),
)
def test_fuzz_csv_rows_and_real_writes(fuzz_ws, rows, header):
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *rows] if header else rows)
    file = fuzz_ws.parent / "rows.csv"
    file.write_text(buffer.getvalue(), encoding="utf-8")
    before = {p for p in fuzz_ws.parent.rglob("*") if ".git" not in p.parts}
    _import_once(fuzz_ws, file, dry_run=False)
    _outside_untouched(fuzz_ws, before)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=ROWS, garbage=st.binary(max_size=200), where=st.integers(min_value=0, max_value=4000))
def test_fuzz_xlsx_ish(fuzz_ws, tmp_path_factory, rows, garbage, where):
    book = Workbook()
    for row in [["Date received", "Issue"], *rows]:
        book.active.append(row)
    file = fuzz_ws.parent / "book.xlsx"
    book.save(file)
    with zipfile.ZipFile(file) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    sheet = next(n for n in parts if n.startswith("xl/worksheets/"))
    at = min(where, len(parts[sheet]))
    parts[sheet] = parts[sheet][:at] + garbage + parts[sheet][at:]
    with zipfile.ZipFile(file, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)
    before = {p for p in fuzz_ws.parent.rglob("*") if ".git" not in p.parts}
    _import_once(fuzz_ws, file, dry_run=True)
    _outside_untouched(fuzz_ws, before)
