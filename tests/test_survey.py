"""Surveys through the real CLI: record, due (delay, cool-down, once only), render,
mark sent, import with a row-by-row report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import git

T0 = "2025-11-03T10:00:00+08:00"


def closed_case(cli, ws: Path, customer: str, contact: str | None, day: int) -> str:
    """File, resolve and close a case; closed on 2025-11-{day} 12:00 (+08:00)."""
    args = [
        "file",
        "--title",
        f"Charger broke ({customer})",
        "--customer",
        customer,
        "--category",
        "product_quality",
        "-w",
        str(ws),
        "--now",
        f"2025-11-{day:02d}T09:00:00+08:00",
    ]
    if contact:
        args += ["--contact", contact]
    done = cli(*args)
    assert done.code == 0, done.err
    case_id = done.out.strip()
    for action, extra, hour in (("resolve", ["--resolution", "Replaced"], 10), ("close", [], 12)):
        step = cli(action, case_id, *extra, "-w", str(ws), "--now", f"2025-11-{day:02d}T{hour}:00:00+08:00")
        assert step.code == 0, step.err
    return case_id


def due(cli, ws: Path, now: str, *extra: str) -> list[dict]:
    done = cli("survey", "due", "--json", *extra, "-w", str(ws), "--now", now)
    assert done.code == 0, done.err
    return json.loads(done.out)


def test_record_an_answer_and_refuse_bad_ones(cli, ws):
    case_id = closed_case(cli, ws, "Ann Lee", "ann@example.com", 3)
    for args, code, text in (
        (["--csat", "6"], 2, "--csat 6 is out of range"),
        (["--nps", "11"], 2, "--nps 11 is out of range"),
        ([], 2, "give --csat"),
    ):
        bad = cli("survey", case_id, *args, "-w", str(ws))
        assert bad.code == code and text in bad.err
    done = cli("survey", case_id, "--csat", "4", "--nps", "9", "--comment", "Quick fix", "-w", str(ws))
    assert done.code == 0, done.err
    assert "survey recorded (CSAT 4, NPS 9)" in done.out
    shown = json.loads(cli("show", case_id, "--json", "-w", str(ws)).out)
    assert (shown["csat"], shown["nps"], shown["survey_comment"]) == (4, 9, "Quick fix")
    assert shown["events"][-1]["action"] == "survey"
    message = git(ws, "log", "-1", "--format=%B")
    assert "Cmtool-Action: survey" in message and f"Cmtool-Case: {case_id}" in message
    assert git(ws, "status", "--porcelain") == ""


def test_open_cases_cannot_be_surveyed(cli, ws):
    case_id = cli("file", "--title", "Still open", "-w", str(ws)).out.strip()
    done = cli("survey", case_id, "--csat", "3", "-w", str(ws))
    assert done.code == 4 and "resolved or closed" in (done.err + done.out)


def test_due_respects_delay_max_age_cooldown_and_asks_once(cli, ws, tmp_path):
    ann1 = closed_case(cli, ws, "Ann Lee", "ann@example.com", 3)
    ann2 = closed_case(cli, ws, "Ann Lee", "ann@example.com", 4)
    bob = closed_case(cli, ws, "Bob Li", "+86 138 0000 1111", 4)
    closed_case(cli, ws, "No Contact", None, 4)
    assert due(cli, ws, "2025-11-04T11:00:00+08:00") == []  # less than 24 h after closing
    rows = due(cli, ws, "2025-11-06T09:00:00+08:00")
    # Ann's two cases: only the first (one invitation per customer); no contact: skipped.
    assert [r["case_id"] for r in rows] == [ann1, bob]
    assert rows[0]["contact"] == "ann@example.com"
    assert rows[0]["subject"] == f"How did we do? Your complaint {ann1}"
    assert "Dear Ann Lee" in rows[0]["body"] and "1 = very unhappy" in rows[0]["body"]
    assert due(cli, ws, "2025-12-20T09:00:00+08:00") == []  # closed over 30 days ago

    out = tmp_path / "out"
    done = cli(
        "survey",
        "due",
        "--render",
        str(out),
        "--mark-sent",
        "-w",
        str(ws),
        "--now",
        "2025-11-06T09:00:00+08:00",
    )
    assert done.code == 0, done.err
    assert sorted(p.name for p in out.iterdir()) == sorted([f"{ann1}.txt", f"{bob}.txt"])
    assert (out / f"{ann1}.txt").read_text().startswith("To: ann@example.com\nSubject: ")
    message = git(ws, "log", "-1", "--format=%B")
    assert "Cmtool-Action: survey_invite" in message
    assert f"Cmtool-Case: {ann1}" in message and f"Cmtool-Case: {bob}" in message
    # Asked once: neither is listed again, and Ann's second case waits for the cool-down.
    assert due(cli, ws, "2025-11-07T09:00:00+08:00") == []
    assert git(ws, "status", "--porcelain") == ""
    shown = json.loads(cli("show", ann2, "--json", "-w", str(ws)).out)
    assert shown.get("survey_invited_at") is None


def test_render_to_stdout(cli, ws):
    case_id = closed_case(cli, ws, "Ann Lee", "ann@example.com", 3)
    done = cli("survey", "due", "--render", "-", "-w", str(ws), "--now", "2025-11-05T09:00:00+08:00")
    assert done.code == 0, done.err
    assert f"--- {case_id} to ann@example.com" in done.out and "Dear Ann Lee" in done.out


def test_import_takes_good_rows_in_one_commit_and_reports_the_rest(cli, ws, tmp_path):
    first = closed_case(cli, ws, "Ann Lee", "ann@example.com", 3)
    second = closed_case(cli, ws, "Bob Li", "bob@example.com", 4)
    open_id = cli(
        "file", "--title", "Open one", "-w", str(ws), "--now", "2025-11-05T09:00:00+08:00"
    ).out.strip()
    before = git(ws, "rev-parse", "HEAD").strip()
    sheet = tmp_path / "answers.csv"
    sheet.write_text(
        "Case ID,CSAT,NPS,Comment,answered_at\r\n"
        f'{first},5,10,"Great, thanks",2025-11-06\r\n'
        f"{first},4,8,again,\r\n"
        f"{second},9,,,\r\n"
        f"{open_id},3,,,\r\n"
        "C-990101-ZZZZZZZ,3,,,\r\n"
        f'{second[:12]},2,,"=HYPERLINK(""http://x"")",2999-01-01\r\n'
        f"{second},2,4,meh,\r\n",
        encoding="utf-8-sig",
    )
    dry = cli(
        "survey",
        "import",
        str(sheet),
        "--dry-run",
        "-w",
        str(ws),
        "--now",
        "2025-11-08T09:00:00+08:00",
    )
    assert dry.code == 1 and "would record 2 answer(s)" in dry.err
    assert git(ws, "rev-parse", "HEAD").strip() == before
    done = cli("survey", "import", str(sheet), "-w", str(ws), "--now", "2025-11-08T09:00:00+08:00")
    assert done.code == 1
    lines = done.out.strip().splitlines()
    assert [line.split(": ")[1].split()[0] for line in lines] == [
        "SURVEY_DUPLICATE",
        "SURVEY_BAD_VALUE",
        "SURVEY_REFUSED",
        "SURVEY_UNKNOWN_CASE",
        "SURVEY_BAD_VALUE",
    ]
    assert lines[0].startswith(f"{sheet}:3: SURVEY_DUPLICATE row 2")
    assert "csat 9 is out of range 1-5" in lines[1] and "in the future" in lines[4]
    assert "recorded 2 answer(s); 5 row(s) refused" in done.err
    message = git(ws, "log", "-1", "--format=%B")
    assert message.startswith("import 2 survey answer(s) from answers.csv")
    assert f"Cmtool-Case: {first}" in message and f"Cmtool-Case: {second}" in message
    shown = json.loads(cli("show", first, "--json", "-w", str(ws)).out)
    assert (shown["csat"], shown["nps"], shown["surveyed_at"]) == (
        5,
        10,
        "2025-11-06T12:00:00+08:00",
    )
    assert git(ws, "status", "--porcelain") == ""


@pytest.mark.parametrize(
    "content, message",
    [
        (b"foo,bar\n1,2\n", "needs a case ID column"),
        ("case_id,csat\nC-1,\xff".encode("latin-1") + b"\x81\xfe\xff", "neither UTF-8 nor GBK"),
    ],
)
def test_import_refuses_unusable_files(cli, ws, tmp_path, content, message):
    path = tmp_path / "a.csv"
    path.write_bytes(content)
    done = cli("survey", "import", str(path), "-w", str(ws))
    assert done.code == 2 and message in done.err


def test_import_reads_gbk_with_chinese_headers(cli, ws, tmp_path):
    case_id = closed_case(cli, ws, "王芳", "wangfang@example.cn", 3)
    path = tmp_path / "gbk.csv"
    path.write_bytes(f"投诉编号,满意度,推荐度,评价\n{case_id},4,9,处理及时\n".encode("gbk"))
    done = cli("survey", "import", str(path), "-w", str(ws), "--now", "2025-11-08T09:00:00+08:00")
    assert done.code == 0, (done.out, done.err)
    shown = json.loads(cli("show", case_id, "--json", "-w", str(ws)).out)
    assert (shown["csat"], shown["survey_comment"]) == (4, "处理及时")
