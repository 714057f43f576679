"""rules.yaml: loading, every problem with its line, classification, priority, routing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cmtool.errors import DataError
from cmtool.rules import engine
from cmtool.rules.loader import check_rules, load_rules

ROOT = Path(__file__).resolve().parent.parent

BROKEN = """\
version: 1
categories:
  billing:
    team: nobody
    keywords: [refund, 42, ""]
priority_rules:
  - name: hot
    when: {keywords: [fire], colour: [red]}
    set: urgent
  - name: hot
    when: {channel: [pigeon]}
    at_least: high
calendars:
  cn: {timezone: Mars/Olympus, hours: {mon-fri: "18:00-09:00"}, holidays: {country: XX}}
sla:
  policies:
    - {name: std, calendar: nowhere, first_response: 8 hours}
escalation:
  - {step: warn, at: 150%}
bogus: 1
"""


def test_bundled_rules_load_cleanly():
    rules, _data, problems = check_rules((ROOT / "rules.yaml").read_text(encoding="utf-8"))
    assert problems == []
    assert {c.key for c in rules.categories} >= {
        "product_quality",
        "service_attitude",
        "logistics",
        "billing",
        "false_advertising",
        "privacy",
        "safety",
    }
    assert set(rules.teams) == {"quality", "service", "logistics", "billing", "compliance"}
    assert rules.people["omar"].role == "manager" and rules.people["dana"].role == "lead"
    assert set(rules.regimes) >= {"fca_disp", "cfpb", "cn_banking", "cn_insurance"}


def test_a_broken_rules_file_reports_every_problem_with_its_line():
    _rules, _data, problems = check_rules(BROKEN)
    found = {(p.line, p.message.split(":")[0]) for p in problems}
    expected = {
        (4, "categories.billing.team"),
        (5, "categories.billing.keywords[2]"),
        (8, "priority_rules[0].when.colour"),
        (9, "priority_rules[0].set"),
        (10, "priority_rules[1].name"),
        (11, "priority_rules[1].when.channel"),
        (14, "calendars.cn.timezone"),
        (14, "calendars.cn.hours"),
        (14, "calendars.cn.holidays.country"),
        (17, "sla.policies[0].calendar"),
        (17, "sla.policies[0].first_response"),
        (19, "escalation[0].at"),
    }
    assert expected <= found, sorted(found)
    assert any(p.code == "RULES_UNKNOWN_SECTION" and p.line == 20 for p in problems)


def test_load_rules_raises_one_error_listing_all_problems(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_rules(path)
    text = str(caught.value)
    assert "rules.yaml:4:" in text and "rules.yaml:19:" in text and "problem(s)" in text


def test_yaml_syntax_error_has_a_line():
    _rules, _data, problems = check_rules("version: 1\ncategories: [unclosed\n")
    assert problems and problems[0].code == "RULES_YAML" and problems[0].line is not None


@pytest.fixture(scope="module")
def rules():
    return load_rules(ROOT / "rules.yaml")


@pytest.mark.parametrize(
    ("title", "description", "category"),
    [
        ("快递三天了还没收到", None, "logistics"),  # Chinese, no spaces
        ("客服态度很差,还挂电话", None, "service_attitude"),
        ("Charged twice for one order", "please refund", "billing"),
        ("Kettle caught fire", "my hand got a burn", "safety"),
        ("The app leaked my personal data", None, "privacy"),
        ("I won a billion", None, None),  # "bill" must not match inside a word
    ],
)
def test_classification(rules, title, description, category):
    decision = engine.classify({"title": title, "description": description}, rules)
    assert (decision.value if decision else None) == category
    if decision:
        assert decision.rule == f"categories.{category}"


@pytest.mark.parametrize(
    ("state", "priority", "rule"),
    [
        ({"title": "插座有安全隐患", "customer_tier": "vip"}, "critical", "safety_hazard"),
        ({"title": "late parcel", "customer_tier": "vip"}, "high", "vip_customer"),
        ({"title": "late parcel", "channel": "regulator"}, "high", "regulator_referral"),
        ({"title": "late parcel", "channel": "social"}, "high", "social_media"),
        (
            {"title": "late parcel", "channel": "social", "priority": "low"},
            "normal",
            "social_media",
        ),
        ({"title": "late parcel", "channel": "email"}, None, None),
    ],
)
def test_priority_rules_first_match_wins(rules, state, priority, rule):
    decision = engine.prioritize({"priority": "normal", **state}, rules)
    assert (
        (decision.value, decision.rule) == (priority, f"priority_rules.{rule}")
        if priority
        else decision is None
    )


def test_file_classifies_prioritises_and_routes_round_robin(ws, cli):
    ids = []
    for title in ("冰箱坏了", "Kettle is defective", "洗衣机质量问题"):
        result = cli("file", "--title", title, "--channel", "phone", cwd=ws)
        assert result.code == 0, result.err
        ids.append(result.out.strip())
    owners = [json.loads(cli("show", i, "--json", cwd=ws).out)["assignee"] for i in ids]
    assert owners == ["alice", "chen.jie", "alice"]  # quality team, round robin
    shown = json.loads(cli("show", ids[0], "--json", cwd=ws).out)
    assert shown["category"] == "product_quality" and shown["team"] == "quality"
    actions = [(e["action"], e.get("rule")) for e in shown["events"]]
    assert actions == [
        ("file", None),
        ("classify", "categories.product_quality"),
        ("assign", "routing.quality.round_robin"),
    ]


def test_file_with_explicit_category_and_priority_keeps_them(ws, cli):
    result = cli(
        "file",
        "--title",
        "Kettle caught fire",
        "--category",
        "billing",
        "--priority",
        "low",
        "--json",
        cwd=ws,
    )
    case = json.loads(result.out)
    assert (case["category"], case["priority"]) == ("billing", "low")
    assert [e["action"] for e in case["events"]] == ["file", "assign"]
    bad = cli("file", "--title", "x", "--category", "weather", cwd=ws)
    assert bad.code == 2 and "weather" in bad.err


def test_least_load_and_assign_auto(ws, cli):
    # service team (bob, li.na) shares by least open load.
    first = cli("file", "--title", "客服态度差", cwd=ws).out.strip()
    second = cli("file", "--title", "rude agent", cwd=ws).out.strip()
    owners = [json.loads(cli("show", i, "--json", cwd=ws).out)["assignee"] for i in (first, second)]
    assert owners == ["bob", "li.na"]
    # Re-route the first after its category changes: billing team (alice, bob), least load.
    assert cli("edit", first, "--category", "billing", cwd=ws).code == 0
    moved = cli("assign", first, "--auto", "--json", cwd=ws)
    assert moved.code == 0, moved.err
    case = json.loads(moved.out)
    assert (case["team"], case["assignee"]) == ("billing", "alice")
    assert case["events"][-1]["rule"] == "routing.billing.least_load"
    both = cli("assign", first, "--auto", "--to", "bob", cwd=ws)
    assert both.code == 2


def test_validate_reports_a_malformed_rules_file(ws, cli):
    (ws / "rules.yaml").write_text(BROKEN, encoding="utf-8")
    result = cli("validate", cwd=ws)
    assert result.code == 1
    assert "rules.yaml:4:" in result.out + result.err
    assert "rules.yaml:19:" in result.out + result.err
    filing = cli("file", "--title", "x", cwd=ws)
    assert filing.code == 2 and "problem(s)" in filing.err and "Traceback" not in filing.err
