"""`cmtool demo` renders the four bundled reports from the sample workspace."""

from __future__ import annotations

from conftest import git
from openpyxl import load_workbook


def test_demo_produces_the_four_reports(cli, tmp_path):
    target = tmp_path / "demo"
    done = cli("demo", str(target))
    assert done.code == 0, done.err
    reports = sorted(p.name for p in (target / "reports").iterdir())
    assert [name.split("-")[0] for name in reports] == ["cfpb", "cn", "compliance", "compliance", "fca"]
    for name in reports:
        assert f"report: reports/{name}" in done.out
    cn = next(p for p in (target / "reports").iterdir() if p.name.startswith("cn-"))
    assert cn.read_text(encoding="utf-8").startswith("# 投诉处理情况报告（")
    book = load_workbook(next((target / "reports").glob("compliance-*.xlsx")))
    summary = {row[0].value: row[1].value for row in book["Summary"].iter_rows() if row[0].value}
    assert summary["Received in period"] > 0  # the sample has complaints that month
    assert git(target, "status", "--porcelain", "--", "reports") == ""
