"""cmtool import: each quirk of real spreadsheets, built here as a fixture file."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from conftest import git
from openpyxl import Workbook

from cmtool.importing.csvread import decode
from cmtool.importing.dates import DAYFIRST, MONTHFIRST, decide_order, parse_date
from cmtool.importing.headers import auto_target
from cmtool.model.timefmt import parse_time

ZONE = parse_time("2025-11-21T17:30:00+08:00").tzinfo


def cases(root: Path) -> list[dict]:
    return [yaml.safe_load(p.read_text()) for p in sorted((root / "cases").rglob("C-*.yaml"))]


def run_import(cli, ws: Path, file: Path, *args: str) -> tuple[int, dict, str]:
    result = cli("import", str(file), "-w", str(ws), "--json", *args)
    assert "Traceback" not in result.err, result.err
    return result.code, json.loads(result.out) if result.out else {}, result.err


def accounted(report: dict) -> bool:
    return (
        report["imported"] + report["already_present"] + report["duplicates"] + report["rejected"]
    ) == report["data_rows"]


def test_bom_crlf_embedded_newlines_title_row_and_cfpb_header(cli, ws, tmp_path):
    text = (
        "Consumer complaints export 2020\r\n"
        "\r\n"
        "Complaint ID,Date_received,Product,Sub_product,Issue,Consumer_complaint_narrative,"
        "Company_response_to_consumer,Submitted_via,State,ZIP_code,Date closed\r\n"
        '3001,03/18/2020,Mortgage,FHA,Late fee,"Charged twice\r\nthen again\nand again",'
        "Closed with monetary relief,Web,MA,2134,03/25/2020\r\n"
        "3002,04/02/2020,Credit card,,Fraud,,In progress,Referral,NY,10001,\n"
    )
    file = tmp_path / "cfpb.csv"
    file.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    code, report, _ = run_import(cli, ws, file)
    assert code == 0
    assert report["header_row"] == 3 and report["data_rows"] == 2 and report["imported"] == 2
    assert "encoding utf-8 with BOM" in report["decisions"]
    closed, open_ = sorted(cases(ws), key=lambda c: c["source"]["id"])
    assert closed["description"] == "Charged twice\nthen again\nand again\n"
    assert closed["product"] == "Mortgage" and closed["region"] == "MA"
    assert closed["extra"] == {"Sub_product": "FHA", "ZIP_code": "02134"}
    assert closed["source"]["file"] == "cfpb.csv" and closed["source"]["row"] == 4
    assert len(closed["source"]["sha256"]) == 64
    # A closed complaint's timeline: filed when received (routed by rules.yaml as
    # if filed then), resolved and closed when closed.
    assert [e["action"] for e in closed["events"]] == ["file", "assign", "resolve", "close"]
    assert closed["events"][0]["at"] == closed["filed_at"] == "2020-03-18T00:00:00+08:00"
    assert closed["closed_at"] == closed["events"][-1]["at"] == "2020-03-25T00:00:00+08:00"
    assert closed["status"] == "closed" and closed["resolution"] == "Closed with monetary relief"
    assert open_["status"] == "in_progress" and open_["channel"] == "regulator"
    assert cli("validate", "-w", str(ws)).code == 0
    log = git(ws, "log", "-1", "--format=%B")
    assert "import cfpb.csv" in log and log.count("Cmtool-Case:") == 2
    assert git(ws, "status", "--porcelain") == ""


def test_gbk_chinese_header_and_values(cli, ws, tmp_path):
    rows = [
        [
            "投诉编号",
            "投诉日期",
            "客户姓名",
            "联系电话",
            "投诉内容",
            "处理状态",
            "投诉渠道",
            "结案日期",
            "备注",
        ],
        ["TS-01", "2024/3/5", "张三", "13800138000", "空调不制冷", "已解决", "电话", "2024/3/9", "回访满意"],
        ["TS-02", "2024年3月6日", "李四", "", "发票开错", "处理中", "微信", "", ""],
    ]
    file = tmp_path / "台账.csv"
    file.write_bytes("\r\n".join(",".join(r) for r in rows).encode("gbk"))
    code, report, _ = run_import(cli, ws, file)
    assert code == 0, report
    assert "encoding gb18030" in report["decisions"]
    first, second = sorted(cases(ws), key=lambda c: c["source"]["id"])
    assert first["customer"] == "张三" and first["contact"] == "13800138000"
    assert first["title"] == "空调不制冷" and first["description"] == "空调不制冷"
    assert first["status"] == "resolved" and first["resolved_at"] == "2024-03-09T00:00:00+08:00"
    assert first["channel"] == "phone" and first["extra"] == {"备注": "回访满意"}
    assert second["status"] == "in_progress" and second["channel"] == "social"
    assert second["filed_at"] == "2024-03-06T00:00:00+08:00"


def test_every_row_accounted_for_with_rejects_file(cli, ws, tmp_path):
    file = tmp_path / "messy.csv"
    file.write_text(
        "id,date,title,status\n"
        "1,2024-01-02,Broken kettle,closed\n"
        "2,2024-01-03,Late parcel,open\n"
        "2,2024-01-03,Late parcel,open\n"  # exact duplicate
        "3,not a date,Rude agent,open\n"  # unparseable required date
        "4,2024-01-05,Lost card,Parked\n"  # unknown status
        "5,2024-01-06\n"  # too short
        "6,2030-01-01,From the future,open\n"
        "2,2024-01-07,Other content same ID,open\n"
        '7,2024-01-08,"Cut off,open\n'  # truncated last record
    )
    rejects = tmp_path / "rejects.csv"
    code, report, _ = run_import(cli, ws, file, "--rejects", str(rejects))
    assert code == 1  # rows were rejected
    assert report["data_rows"] == 9 and accounted(report)
    assert (report["imported"], report["duplicates"], report["rejected"]) == (2, 1, 6)
    codes = {r["row"]: r["code"] for r in report["rejects"]}
    assert codes == {
        4: "DUPLICATE",
        5: "BAD_DATE",
        6: "UNKNOWN_STATUS",
        7: "SHORT_ROW",
        8: "FUTURE_DATE",
        9: "DUPLICATE_ID",
        10: "TRUNCATED",
    }
    with open(rejects, encoding="utf-8-sig", newline="") as handle:
        written = list(csv.reader(handle))
    assert written[0] == ["row", "code", "reason", "id", "date", "title", "status"]
    assert [row[0] for row in written[1:]] == ["4", "5", "6", "7", "8", "9", "10"]
    assert written[2][3:] == ["3", "not a date", "Rude agent", "open"]
    # The text summary lists every reject with its row number.
    text = cli("import", str(file), "-w", str(ws), "--dry-run")
    assert "row 5: BAD_DATE" in text.out and "row 10: TRUNCATED" in text.out
    assert "2 already present" in text.out


def test_dry_run_writes_nothing(cli, ws, tmp_path):
    file = tmp_path / "a.csv"
    file.write_text("Date received,Issue\n2024-05-01,Broken screen\n")
    head = git(ws, "rev-parse", "HEAD")
    code, report, _ = run_import(cli, ws, file, "--dry-run")
    assert code == 0 and report["imported"] == 1 and report["dry_run"] and report["commit"] is None
    assert git(ws, "rev-parse", "HEAD") == head and cases(ws) == []


def test_ambiguous_dates_decided_by_column_and_overridable(cli, ws, tmp_path):
    file = tmp_path / "dates.csv"
    file.write_text("Date,Title\n03/04/2024,one\n05/06/2024,two\n25/06/2024,three\n")
    code, report, _ = run_import(cli, ws, file, "--dry-run")
    assert code == 0 and report["imported"] == 3
    assert any("25/06/2024 can only be day/month" in d for d in report["decisions"])
    code, report, _ = run_import(cli, ws, file)
    assert sorted(c["filed_at"][:10] for c in cases(ws)) == ["2024-04-03", "2024-06-05", "2024-06-25"]
    other = tmp_path / "us.csv"
    other.write_text("Date,Title\n03/04/2024,four\n")
    code, report, _ = run_import(cli, ws, other, "--dayfirst")
    assert any(c["filed_at"].startswith("2024-04-03") and c["title"] == "four" for c in cases(ws))
    assert "dates: read day/month (as told)" in report["decisions"]


def test_xlsx_title_row_real_dates_serials_and_sheet_choice(cli, ws, tmp_path):
    book = Workbook()
    book.active.title = "Notes"  # an empty first sheet is skipped
    sheet = book.create_sheet("Complaints")
    sheet.append(["Complaints register (internal)"])
    sheet.append(["Ref", "Received", "Subject", "Status", "Closed", "Redress", "Upheld"])
    sheet.append([1001, datetime(2023, 2, 1, 9, 30), "Wrong bill", "Solved", 44963, 12.5, "yes"])
    sheet.append([1002, 44960, "-2+3 formula-looking title", "new", None, None, None])
    file = tmp_path / "book.xlsx"
    book.save(file)
    code, report, _ = run_import(cli, ws, file)
    assert code == 0, report
    assert report["sheet"] == "Complaints" and report["header_row"] == 2
    solved, new = sorted(cases(ws), key=lambda c: c["source"]["id"])
    assert solved["source"] == {**solved["source"], "id": "1001", "sheet": "Complaints", "row": 3}
    assert solved["filed_at"] == "2023-02-01T09:30:00+08:00"
    assert solved["resolved_at"] == "2023-02-06T00:00:00+08:00"  # Excel serial 44963
    assert solved["redress"] == 12.5 and solved["upheld"] is True
    assert new["filed_at"] == "2023-02-03T00:00:00+08:00" and new["title"].startswith("-2+3")
    bad = cli("import", str(file), "-w", str(ws), "--sheet", "Nope")
    assert bad.code == 2 and "no sheet 'Nope'" in bad.err and "Complaints" in bad.err


def test_show_mapping_round_trips_through_mapping_file(cli, ws, tmp_path):
    undated = tmp_path / "undated.csv"
    undated.write_text("Headline,State of play\nNoisy fridge,Parked\n")
    result = cli("import", str(undated), "-w", str(ws))
    assert result.code == 2 and "no column holds the date received" in result.err
    file = tmp_path / "odd.csv"
    file.write_text("Opened on,Headline,State of play\n2024-02-01,Noisy fridge,Parked\n")
    shown = cli("import", str(file), "-w", str(ws), "--show-mapping")
    assert shown.code == 0 and "Headline: title" in shown.out and "Opened on: filed_at" in shown.out
    assert "State of play: extra" in shown.out
    mapping = yaml.safe_load(shown.out)
    mapping["columns"]["State of play"] = "status"
    mapping["values"] = {"status": {"Parked": "waiting"}}
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(mapping, allow_unicode=True))
    code, report, _ = run_import(cli, ws, file, "--mapping", str(tmp_path / "m.yaml"), "--no-rules")
    assert code == 0 and report["imported"] == 1
    (case,) = cases(ws)
    assert case["status"] == "waiting" and case["waiting_reason"] == "Parked"
    assert [e["action"] for e in case["events"]] == ["file", "assign", "wait"]
    (tmp_path / "bad.yaml").write_text("columns: {Headline: titel}\nvalues: {status: {x: gone}}\n")
    bad = cli("import", str(file), "-w", str(ws), "--mapping", str(tmp_path / "bad.yaml"))
    assert bad.code == 2 and "'titel' is not a field" in bad.err and "'gone'" in bad.err


@pytest.mark.parametrize(
    "content, message",
    [
        (b"PK\x03\x04garbage", "not a readable .xlsx"),
        (b"\x00\x01\x02binary", "binary file"),
    ],
)
def test_broken_files_get_one_clear_line(cli, ws, tmp_path, content, message):
    file = tmp_path / ("x.xlsx" if content.startswith(b"PK") else "x.csv")
    file.write_bytes(content)
    result = cli("import", str(file), "-w", str(ws))
    assert result.code == 2 and message in result.err and "Traceback" not in result.err
    missing = cli("import", str(tmp_path / "none.csv"), "-w", str(ws))
    assert missing.code == 3 and "no such file" in missing.err


def test_date_parsing_and_order_decisions():
    assert parse_date("22-Apr-15", None, ZONE).date().isoformat() == "2015-04-22"
    assert parse_date("18-03-20", None, ZONE).date().isoformat() == "2020-03-18"
    assert parse_date("3/4/2020 3:45 PM", MONTHFIRST, ZONE).isoformat() == "2020-03-04T15:45:00+08:00"
    assert parse_date("43908", None, ZONE).date().isoformat() == "2020-03-18"
    assert parse_date("2020-03-18T09:30:00Z", None, ZONE).isoformat() == "2020-03-18T09:30:00+00:00"
    with pytest.raises(ValueError, match="does not fit"):
        parse_date("18/03/2020", MONTHFIRST, ZONE)
    with pytest.raises(ValueError):
        parse_date("12345", None, ZONE)  # not a plausible Excel serial
    assert decide_order(["01/02/2020", "13/02/2020"]).order == DAYFIRST
    assert decide_order(["01/02/2020", "01/13/2020"]).order == MONTHFIRST
    assert decide_order(["01.02.2020"]).order == DAYFIRST
    assert decide_order(["2020-01-02"]) is None


def test_header_aliases_ignore_case_underscores_and_punctuation():
    assert auto_target("Date_received")[0] == "filed_at"
    assert auto_target("CONSUMER COMPLAINT NARRATIVE")[0] == "description"
    assert auto_target("Consumer disputed?") is None
    assert auto_target("投诉日期（必填）")[0] == "filed_at"
    assert auto_target("Complaint ID")[0] == "source_id"


def test_encoding_detection():
    assert decode("投诉".encode("gbk")) == ("投诉", "gb18030")
    assert decode("café".encode("cp1252")) == ("café", "cp1252")
    assert decode(b"\xef\xbb\xbfabc")[1] == "utf-8 with BOM"
