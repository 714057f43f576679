"""cmtool import without a mapping file, on files in the shapes of public complaint exports.

Each fixture is built here in the layout its source publishes (headers, date
formats, status words, encodings); the test asserts what the importer inferred
for each column and the cases it wrote. Expected values are read off the rows.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from conftest import git
from openpyxl import Workbook

ACTOR = "alice"  # a person of the bundled rules.yaml, so audit verify judges the import by her role


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def run_import(cli, ws: Path, file: Path, *args: str) -> dict:
    result = cli("import", str(file), "-w", str(ws), "--json", "--actor", ACTOR, *args)
    assert result.code == 0, result.err + result.out
    return json.loads(result.out)


def mapping(report: dict) -> dict[str, str]:
    return {c["column"]: c["target"] for c in report["columns"]}


def by_source_id(ws: Path) -> dict[str, dict]:
    found = {}
    for path in (ws / "cases").rglob("C-*.yaml"):
        case = yaml.safe_load(path.read_text(encoding="utf-8"))
        found[str(case["source"].get("id") or case["source"]["row"])] = case
    return found


def actions(case: dict) -> list[str]:
    return [event["action"] for event in case["events"]]


def clean(cli, ws: Path) -> None:
    verify = cli("audit", "verify", "-w", str(ws))
    assert verify.code == 0 and "no findings" in verify.out + verify.err, verify.out + verify.err
    assert cli("validate", "-w", str(ws)).code == 0
    assert git(ws, "status", "--porcelain") == ""


def test_cfpb_database_export(cli, ws, tmp_path):
    header = [
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
    rows = [
        header,
        [
            "2023-05-02",
            "Credit card",
            "General-purpose credit card",
            "Problem with a purchase shown on your statement",
            "Credit card company isn't resolving a dispute",
            "I was charged twice for one purchase.",
            "",
            "BIG BANK",
            "CA",
            "90210",
            "",
            "Consent provided",
            "Web",
            "2023-05-02",
            "Closed with explanation",
            "Yes",
            "N/A",
            "7001",
        ],
        [
            "2023-05-03",
            "Mortgage",
            "Conventional home mortgage",
            "Trouble during payment process",
            "",
            "",
            "",
            "HOME LOANS INC",
            "NY",
            "10001",
            "Servicemember",
            "",
            "Phone",
            "2023-05-04",
            "In progress",
            "Yes",
            "N/A",
            "7002",
        ],
    ]
    report = run_import(cli, ws, write_csv(tmp_path / "complaints.csv", rows))
    columns = mapping(report)
    assert columns["Date received"] == "filed_at" and columns["Complaint ID"] == "source_id"
    assert columns["Issue"] == "title" and columns["Consumer complaint narrative"] == "description"
    assert columns["Company response to consumer"] == "status" and columns["Submitted via"] == "channel"
    assert report["imported"] == 2 and report["rejected"] == 0
    cases = by_source_id(ws)
    closed, open_ = cases["7001"], cases["7002"]
    assert closed["title"] == "Problem with a purchase shown on your statement"
    assert closed["filed_at"] == "2023-05-02T00:00:00+08:00"  # the workspace calendar's zone
    assert closed["status"] == "closed" and closed["category"] == "credit_card"
    assert open_["status"] == "in_progress" and open_["channel"] == "phone"
    # The product column's words became taxonomy entries, added to rules.yaml in the import's commit.
    rules = yaml.safe_load((ws / "rules.yaml").read_text(encoding="utf-8"))
    assert rules["categories"]["mortgage"] == {"label": "Mortgage", "keywords": []}
    assert "rules.yaml" in git(ws, "show", "--name-only", "--format=", "HEAD")
    # Only added lines: the person's layout and comments stay as they were.
    diff = git(ws, "diff", "--numstat", "HEAD~1", "HEAD", "--", "rules.yaml").split()
    assert diff[:2] == ["6", "0"]
    # Routed as if filed: team and owner by rules.yaml, the event names the rule.
    routed = next(e for e in closed["events"] if e["action"] == "assign")
    assert routed["rule"].startswith("routing.") and closed["team"]
    clean(cli, ws)


def test_city_311_service_requests_build_titles(cli, ws, tmp_path):
    rows = [
        [
            "Unique Key",
            "Created Date",
            "Closed Date",
            "Agency",
            "Agency Name",
            "Complaint Type",
            "Descriptor",
            "Location Type",
            "Incident Zip",
            "Incident Address",
            "City",
            "Status",
            "Resolution Description",
            "Borough",
            "Open Data Channel Type",
        ],
        [
            "59893874",
            "01/15/2024 10:32:00 PM",
            "01/16/2024 01:05:00 AM",
            "NYPD",
            "New York City Police Department",
            "Noise - Residential",
            "Loud Music/Party",
            "Residential Building/House",
            "11201",
            "10 COURT STREET",
            "BROOKLYN",
            "Closed",
            "The Police Department responded to the complaint.",
            "BROOKLYN",
            "ONLINE",
        ],
        [
            "59893875",
            "01/15/2024 11:02:00 PM",
            "",
            "DSNY",
            "Department of Sanitation",
            "Dirty Condition",
            "Trash",
            "Sidewalk",
            "10027",
            "200 W 125 STREET",
            "NEW YORK",
            "Open",
            "",
            "MANHATTAN",
            "PHONE",
        ],
        [
            "59893876",
            "01/16/2024 08:15:00 AM",
            "",
            "NYPD",
            "New York City Police Department",
            "Noise - Residential",
            "Banging/Pounding",
            "Residential Building/House",
            "11201",
            "12 COURT STREET",
            "BROOKLYN",
            "In Progress",
            "",
            "BROOKLYN",
            "MOBILE",
        ],
    ]
    report = run_import(cli, ws, write_csv(tmp_path / "311_Service_Requests.csv", rows), "--dry-run")
    columns = mapping(report)
    assert columns["Unique Key"] == "source_id" and columns["Created Date"] == "filed_at"
    assert columns["Closed Date"] == "closed_at" and columns["Complaint Type"] == "category"
    assert columns["Status"] == "status" and columns["Open Data Channel Type"] == "channel"
    assert any("built from 'Complaint Type' + 'Descriptor'" in d for d in report["decisions"])
    assert report["new_categories"] == {
        "noise_residential": "Noise - Residential",
        "dirty_condition": "Dirty Condition",
    }
    report = run_import(cli, ws, write_csv(tmp_path / "311_Service_Requests.csv", rows))
    cases = by_source_id(ws)
    noise = cases["59893874"]
    assert (
        noise["title"] == "Noise - Residential: Loud Music/Party" and "tags" not in noise or not noise["tags"]
    )
    assert (
        noise["filed_at"] == "2024-01-15T22:32:00+08:00" and noise["closed_at"] == "2024-01-16T01:05:00+08:00"
    )
    assert actions(noise)[-2:] == ["resolve", "close"] and noise["category"] == "noise_residential"
    assert cases["59893875"]["status"] == "new" and cases["59893875"]["channel"] == "phone"
    assert cases["59893876"]["status"] == "in_progress" and cases["59893876"]["team"] == "NYPD"
    clean(cli, ws)


def test_zendesk_export_owners_groups_and_timezone(cli, ws, tmp_path):
    rows = [
        [
            "Id",
            "Requester",
            "Requester email",
            "Assignee",
            "Group",
            "Subject",
            "Status",
            "Priority",
            "Via",
            "Created at",
            "Updated at",
            "Solved at",
            "Tags",
        ],
        [
            "1201",
            "Ann Lee",
            "ann@example.org",
            "Alice",
            "Billing",
            "Charged twice for my order",
            "open",
            "high",
            "Web Widget",
            "2024-03-01 09:00:00",
            "2024-03-01 10:00:00",
            "",
            "refund",
        ],
        [
            "1202",
            "Bo Chen",
            "bo@example.org",
            "Zoe Quinn",
            "Support",
            "Parcel never arrived",
            "open",
            "normal",
            "Mail",
            "2024-03-02 10:30:00",
            "2024-03-02 10:30:00",
            "",
            "",
        ],
        [
            "1203",
            "Cy Diaz",
            "cy@example.org",
            "bob@example.com",
            "Support",
            "Rude agent on the phone",
            "solved",
            "low",
            "Phone call (incoming)",
            "2024-03-03 11:00:00",
            "2024-03-04 12:00:00",
            "2024-03-04 12:00:00",
            "",
        ],
    ]
    file = write_csv(tmp_path / "zendesk.csv", rows)
    report = run_import(cli, ws, file, "--timezone", "Europe/London")
    columns = mapping(report)
    assert columns["Id"] == "source_id" and columns["Created at"] == "filed_at"
    assert columns["Solved at"] == "resolved_at" and columns["Assignee"] == "assignee"
    assert report["unknown_owners"] == {"Zoe Quinn": 1}
    cases = by_source_id(ws)
    billing = cases["1201"]
    # Open with an owner is assigned, with the assign event; London is UTC+0 in March.
    assert billing["status"] == "assigned" and billing["assignee"] == "alice"
    assert billing["filed_at"] == "2024-03-01T09:00:00+00:00"
    assert actions(billing) == ["file", "classify", "assign"] and billing["category"] == "billing"
    # Zoe Quinn is nobody in rules.yaml: kept, listed, and the case routed to the team.
    unknown = cases["1202"]
    assert unknown["extra"]["Assignee"] == "Zoe Quinn" and unknown["status"] == "assigned"
    assert unknown["assignee"] in ("alice", "bob", "chen.jie", "li.na")
    solved = cases["1203"]
    assert solved["assignee"] == "bob" and solved["status"] == "resolved"
    assert solved["resolved_at"] == "2024-03-04T12:00:00+00:00"
    # A note then works on the imported case (it is assigned, not new).
    note = cli("note", billing["id"], "Refund on its way", "-w", str(ws), "--actor", ACTOR)
    assert note.code == 0, note.err
    clean(cli, ws)


def test_owner_map_and_no_rules(cli, ws, tmp_path):
    rows = [
        [
            "Ticket ID",
            "Subject",
            "Description",
            "Status",
            "Priority",
            "Source",
            "Type",
            "Agent",
            "Group",
            "Created time",
            "Resolved time",
            "Closed time",
            "Initial response time",
            "Full name",
            "Email",
        ],
        [
            "88",
            "Refund not received",
            "I returned the kettle three weeks ago and still no refund.",
            "Closed",
            "Medium",
            "Email",
            "Refund",
            "Chen Jie",
            "Billing",
            "2024-06-01 08:00:00",
            "2024-06-03 09:00:00",
            "2024-06-04 09:00:00",
            "2024-06-01 09:30:00",
            "Dee Fox",
            "dee@example.org",
        ],
        [
            "89",
            "App crashes",
            "The app crashes when I open my orders.",
            "Pending",
            "Low",
            "Portal",
            "Problem",
            "Zoe Quinn",
            "Support",
            "2024-06-02 08:00:00",
            "",
            "",
            "",
            "Eli Gray",
            "eli@example.org",
        ],
    ]
    file = write_csv(tmp_path / "freshdesk.csv", rows)
    (tmp_path / "owners.yaml").write_text("Zoe Quinn: bob\n", encoding="utf-8")
    report = run_import(cli, ws, file, "--owner-map", str(tmp_path / "owners.yaml"), "--no-rules")
    columns = mapping(report)
    assert columns["Created time"] == "filed_at" and columns["Closed time"] == "closed_at"
    assert (
        columns["Resolved time"] == "resolved_at" and columns["Initial response time"] == "first_response_at"
    )
    assert report["unknown_owners"] == {}
    cases = by_source_id(ws)
    assert cases["88"]["assignee"] == "chen.jie" and cases["88"]["status"] == "closed"
    assert cases["88"]["resolved_at"] == "2024-06-03T09:00:00+08:00"
    assert cases["89"]["assignee"] == "bob" and cases["89"]["status"] == "assigned"
    # --no-rules: no classification, no routing, no regimes.
    assert not any(e.get("rule") for c in cases.values() for e in c["events"])
    clean(cli, ws)


def test_jira_service_management_export(cli, ws, tmp_path):
    rows = [
        [
            "Summary",
            "Issue key",
            "Issue id",
            "Issue Type",
            "Status",
            "Priority",
            "Assignee",
            "Reporter",
            "Created",
            "Updated",
            "Resolved",
            "Description",
        ],
        [
            "Charger overheats and smells of smoke",
            "CS-101",
            "10101",
            "Incident",
            "Waiting for support",
            "",
            "",
            "Fay Hill",
            "12/Feb/24 9:05 AM",
            "12/Feb/24 9:05 AM",
            "",
            "The charger got very hot and started to smoke.",
        ],
        [
            "Invoice shows the wrong price",
            "CS-102",
            "10102",
            "Service request",
            "Resolved",
            "Medium",
            "dana",
            "Gus Ivy",
            "13/Feb/24 2:40 PM",
            "15/Feb/24 4:00 PM",
            "15/Feb/24 4:00 PM",
            "",
        ],
    ]
    report = run_import(cli, ws, write_csv(tmp_path / "jira.csv", rows))
    columns = mapping(report)
    assert columns["Issue key"] == "source_id" and columns["Created"] == "filed_at"
    assert columns["Summary"] == "title" and columns["Resolved"] == "resolved_at"
    cases = by_source_id(ws)
    hazard = cases["CS-101"]
    assert hazard["filed_at"] == "2024-02-12T09:05:00+08:00" and hazard["priority"] == "critical"
    assert hazard["category"] == "safety" and hazard["status"] == "assigned"  # routed to the safety team
    prioritized = next(e for e in hazard["events"] if e["action"] == "prioritize")
    assert prioritized["rule"] == "priority_rules.safety_hazard"
    price = cases["CS-102"]
    assert price["status"] == "resolved" and price["resolved_at"] == "2024-02-15T16:00:00+08:00"
    assert price["assignee"] == "dana" and price["category"] == "billing"
    clean(cli, ws)


def test_uk_complaints_log_day_first(cli, ws, tmp_path):
    rows = [
        [
            "Complaint Ref",
            "Date Received",
            "Complainant Name",
            "Product/Service",
            "Summary of Complaint",
            "Root Cause",
            "Upheld (Y/N)",
            "Redress Paid (£)",
            "Date Closed",
            "Handler",
            "Status",
            "Region",
        ],
        [
            "UK-0001",
            "03/02/2024",
            "Mrs J Smith",
            "Current account",
            "Overdraft fee charged in error",
            "Process failure",
            "Y",
            "25.00",
            "25/02/2024",
            "bob",
            "Closed",
            "UK",
        ],
        [
            "UK-0002",
            "14/03/2024",
            "Mr K Patel",
            "Savings",
            "Interest not paid",
            "",
            "",
            "",
            "",
            "",
            "Open",
            "UK",
        ],
    ]
    report = run_import(cli, ws, write_csv(tmp_path / "complaints-log.csv", rows))
    assert any("25/02/2024 can only be day/month" in d for d in report["decisions"])
    columns = mapping(report)
    assert columns["Product/Service"] == "product" and columns["Summary of Complaint"] == "title"
    assert columns["Upheld (Y/N)"] == "upheld" and columns["Redress Paid (£)"] == "redress"
    cases = by_source_id(ws)
    fee = cases["UK-0001"]
    assert fee["filed_at"] == "2024-02-03T00:00:00+08:00" and fee["closed_at"] == "2024-02-25T00:00:00+08:00"
    assert fee["upheld"] is True and fee["redress"] == 25 and fee["regimes"] == ["fca_disp"]
    assert fee["status"] == "closed" and fee["assignee"] == "bob"
    assert cases["UK-0002"]["regimes"] == ["fca_disp"] and cases["UK-0002"]["category"] == "savings"
    clean(cli, ws)


def test_12315_export_in_gbk_with_incomplete_record(cli, ws, tmp_path):
    rows = [
        [
            "序号",
            "投诉编号",
            "登记时间",
            "投诉人",
            "联系电话",
            "被投诉方",
            "商品名称",
            "投诉问题",
            "诉求",
            "处理状态",
            "办结时间",
            "处理结果",
        ],
        [
            "1",
            "1231500001",
            "2024-04-01 09:12:00",
            "张三",
            "13800138000",
            "某某电器公司",
            "空调",
            "空调安装后不制冷",
            "退货",
            "已办结",
            "2024-04-08 17:00:00",
            "调解成功，退货退款",
        ],
        [
            "2",
            "1231500002",
            "2024-04-02 14:30:00",
            "李四",
            "",
            "某某快递公司",
            "快递服务",
            "",
            "赔偿",
            "处理中",
            "",
            "",
        ],
    ]
    report = run_import(cli, ws, write_csv(tmp_path / "12315.csv", rows, "gbk"))
    assert "encoding gb18030" in report["decisions"]
    columns = mapping(report)
    assert columns["投诉编号"] == "source_id" and columns["登记时间"] == "filed_at"
    assert columns["投诉问题"] == "title" and columns["办结时间"] == "closed_at"
    assert report["incomplete"] == 1
    cases = by_source_id(ws)
    done = cases["1231500001"]
    assert done["title"] == "空调安装后不制冷" and done["status"] == "closed"
    assert done["closed_at"] == "2024-04-08T17:00:00+08:00" and done["resolution"] == "调解成功，退货退款"
    # No issue text, but a real record: a case with a built title, tagged, with the note.
    flagged = cases["1231500002"]
    assert flagged["title"] == "快递服务: 赔偿" and flagged["tags"] == ["incomplete"]
    assert "incomplete record" in flagged["events"][0]["note"]
    assert flagged["status"] == "in_progress"
    clean(cli, ws)


def test_black_cat_style_export_utf8(cli, ws, tmp_path):
    rows = [
        ["投诉编号", "投诉对象", "投诉问题", "投诉要求", "涉诉金额", "投诉进度", "发布时间"],
        [
            "17350000001",
            "某外卖平台",
            "订单超时两小时未送达，客服推诿",
            "退款",
            "58元",
            "已完成",
            "2024-05-01 12:30",
        ],
        [
            "17350000002",
            "某电商平台",
            "商品与描述不符，虚假宣传",
            "退货退款",
            "299元",
            "处理中",
            "2024-05-02 20:15",
        ],
    ]
    report = run_import(cli, ws, write_csv(tmp_path / "heimao.csv", rows))
    columns = mapping(report)
    assert columns["投诉编号"] == "source_id" and columns["发布时间"] == "filed_at"
    assert columns["投诉问题"] == "title" and columns["投诉进度"] == "status"
    cases = by_source_id(ws)
    late = cases["17350000001"]
    assert late["status"] == "closed" and late["filed_at"] == "2024-05-01T12:30:00+08:00"
    assert late["category"] in ("logistics", "service_attitude")  # classified by keywords, the rule cited
    assert next(e for e in late["events"] if e["action"] == "classify")["rule"].startswith("categories.")
    assert cases["17350000002"]["category"] == "false_advertising"
    clean(cli, ws)


def test_car_complaint_portal_style_export(cli, ws, tmp_path):
    rows = [
        ["投诉编号", "品牌", "车系", "车型", "问题简述", "典型问题", "投诉时间", "投诉状态"],
        [
            "455001",
            "某品牌",
            "某SUV",
            "2023款 1.5T 自动",
            "变速箱顿挫严重",
            "变速箱顿挫",
            "2024-01-05",
            "已回复",
        ],
        ["455002", "某品牌", "某轿车", "2022款 2.0L", "", "发动机异响", "2024-01-06", "待处理"],
    ]
    report = run_import(cli, ws, write_csv(tmp_path / "chezhi.csv", rows))
    columns = mapping(report)
    assert columns["问题简述"] == "title" and columns["典型问题"] == "category"
    assert columns["车系"] == "product" and columns["投诉时间"] == "filed_at"
    cases = by_source_id(ws)
    assert cases["455001"]["status"] == "resolved" and cases["455001"]["category"] == "变速箱顿挫"
    flagged = cases["455002"]
    assert flagged["title"] == "发动机异响" and flagged["tags"] == ["incomplete"]
    assert "发动机异响" in yaml.safe_load((ws / "rules.yaml").read_text(encoding="utf-8"))["categories"]
    clean(cli, ws)


def test_excel_workbook_with_title_block_merged_header_and_totals(cli, ws, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.title = "台账"
    sheet.append(["某某公司 2024年第一季度 客户投诉台账"])
    sheet.merge_cells("A1:G1")
    sheet.append(["导出日期：2024-04-01"])
    sheet.append([])
    sheet.append(["编号", "投诉日期", "客户", "投诉内容", None, "处理信息", None])
    sheet.merge_cells("D4:E4")
    sheet.merge_cells("F4:G4")
    sheet.append([None, None, None, None, None, "处理人", "结案日期"])
    sheet.append(
        [
            "Q1-001",
            datetime(2024, 1, 8, 10, 0),
            "王五",
            "收到的杯子破损开裂",
            None,
            "alice",
            datetime(2024, 1, 10),
        ]
    )
    sheet.append(["Q1-002", datetime(2024, 2, 9, 15, 30), "赵六", "发票抬头开错了", None, None, None])
    sheet.append(["合计", None, None, "2 件", None, None, None])
    file = tmp_path / "台账.xlsx"
    book.save(file)
    report = run_import(cli, ws, file)
    assert report["header_row"] == 4 and report["data_rows"] == 2
    assert any("header spans rows 4-5" in d for d in report["decisions"])
    assert any("totals row" in d for d in report["decisions"])
    columns = mapping(report)
    assert columns["处理人"] == "assignee" and columns["结案日期"] == "closed_at"
    assert columns["投诉内容"] == "description"
    cases = by_source_id(ws)
    cup = cases["Q1-001"]
    assert cup["title"] == "收到的杯子破损开裂" and cup["assignee"] == "alice" and cup["status"] == "closed"
    assert cup["closed_at"] == "2024-01-10T00:00:00+08:00" and cup["category"] == "product_quality"
    assert cases["Q1-002"]["category"] == "billing" and cases["Q1-002"]["status"] == "assigned"
    clean(cli, ws)


def test_new_categories_are_added_to_any_layout_of_rules_yaml():
    from cmtool.errors import UsageError
    from cmtool.rules.loader import rules_from_text
    from cmtool.store.rulesedit import add_categories

    entries = {"credit_card": "Credit card", "变速箱顿挫": "变速箱顿挫", "yes": "Yes"}
    block = "version: 1\ncategories:\n  billing:\n    label: Billing\n    keywords: [bill]\n\n# teams\n"
    empty = "version: 1\ncategories: {}  # none yet\nteams: {}\n"
    for text in (block, empty, "version: 1\n"):
        added = add_categories(text, entries)
        keys = [c.key for c in rules_from_text(added).categories]
        assert keys[-3:] == ["credit_card", "变速箱顿挫", "yes"], added
    assert add_categories(block, entries).startswith(block.split("\n\n")[0])  # the rest stays as it was
    with pytest.raises(UsageError, match="on one line"):
        add_categories("categories: {billing: {label: Billing}}\n", entries)
