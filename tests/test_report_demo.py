"""`cmtool demo` renders the four bundled reports from the sample workspace."""

from __future__ import annotations

from conftest import git
from openpyxl import load_workbook


def test_demo_produces_the_four_reports(cli, tmp_path):
    target = tmp_path / "demo"
    done = cli("demo", str(target))
    assert done.code == 0, done.err
    reports = sorted(p.name for p in (target / "reports").iterdir())
    assert [name.split("-")[0] for name in reports] == [
        "cfpb",
        "cn",
        "compliance",
        "compliance",
        "dashboard",
        "fca",
    ]
    for name in reports:
        assert f"report: reports/{name}" in done.out
    cn = next(p for p in (target / "reports").iterdir() if p.name.startswith("cn-"))
    assert cn.read_text(encoding="utf-8").startswith("# 投诉处理情况报告（")
    book = load_workbook(next((target / "reports").glob("compliance-*.xlsx")))
    summary = {row[0].value: row[1].value for row in book["Summary"].iter_rows() if row[0].value}
    assert summary["Received in period"] > 0  # the sample has complaints that month
    assert git(target, "status", "--porcelain", "--", "reports") == ""


def test_the_demo_reconciles_in_every_period_and_breakdown(cli, tmp_path):
    import json
    import re

    target = tmp_path / "demo"
    assert cli("demo", str(target)).code == 0
    flows = ("open_at_start", "received", "reopened_in_period", "closed", "open_at_end")
    for period in ("2025-09", "2025-10", "2025-11", "2025-Q4", "2025-H2"):
        for by in ("category", "product", "team", "region"):
            done = cli("stats", "--period", period, "--by", by, "--json", "-w", str(target))
            assert done.code == 0, done.err
            k = json.loads(done.out)
            assert (
                k["open_at_start"] + k["received"] + k["reopened_in_period"] - k["closed"] == k["open_at_end"]
            )
            for name in flows:
                assert sum(g[name] for g in k["groups"]) == k[name], (period, by, name)
    for report in (target / "reports").glob("*.md"):
        lines = [
            line
            for line in report.read_text(encoding="utf-8").splitlines()
            if line.startswith(("Reconciliation:", "勾稽关系："))
        ]
        assert lines, report.name
        for line in lines:  # "a open at start + b received + c reopened - d closed = e open at end"
            a, b, c, d, e = map(int, re.findall(r"\d+", line))
            assert a + b + c - d == e, (report.name, line)
