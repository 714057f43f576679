"""Money carries its ISO 4217 currency: `resolve --redress 800 --currency CNY` or
`--redress "800 CNY"`; without one, the case's regime's currency, else the
workspace's (rules.yaml). Totals are per currency, never summed across them, and
the FCA return counts only its regime's cases and only redress in sterling."""

from __future__ import annotations

import json

import pytest
from conftest import git

from cmtool.model.money import parse_money

MANAGER = {"CMTOOL_ACTOR": "omar"}  # a person of the bundled rules.yaml, with no redress limit


def file_case(cli, ws, title: str, *extra: str) -> str:
    done = cli("file", "--title", title, "--channel", "email", "--json", *extra, cwd=ws, env=MANAGER)
    assert done.code == 0, done.err
    return json.loads(done.out)["id"]


def resolve(cli, ws, case_id: str, *extra: str):
    return cli("resolve", case_id, "--resolution", "Refunded", *extra, cwd=ws, env=MANAGER)


@pytest.fixture
def money_ws(cli, ws):
    """Four cases resolved with redress in November 2025 (the tests' clock)."""
    uk = file_case(cli, ws, "Card charged twice", "--region", "UK", "--product", "Card")  # fca_disp
    cn = file_case(cli, ws, "Loan fee", "--regime", "cn_banking", "--product", "Loan")
    us = file_case(cli, ws, "Late parcel", "--product", "Parcel")
    plain = file_case(cli, ws, "Broken kettle", "--product", "Kettle")
    assert resolve(cli, ws, uk, "--redress", "45.50", "--upheld").code == 0  # the regime's GBP
    assert resolve(cli, ws, cn, "--redress", "800 CNY").code == 0
    assert resolve(cli, ws, us, "--redress", "20", "--currency", "usd").code == 0
    assert resolve(cli, ws, plain, "--redress", "10").code == 0  # the workspace's CNY
    return ws, {"uk": uk, "cn": cn, "us": us, "plain": plain}


def test_parse_money():
    assert parse_money("800") == (800.0, None)
    assert parse_money("45.50 gbp") == (45.5, "GBP")
    assert parse_money("CNY 800") == (800.0, "CNY")
    for bad in ("-5", "800 XYZ", "eight hundred", "1e999", "800 CNY GBP"):
        with pytest.raises(ValueError):
            parse_money(bad)


def test_redress_is_stored_with_its_currency_and_history_verifies(cli, money_ws):
    ws, ids = money_ws
    shown = {key: json.loads(cli("show", case_id, "--json", cwd=ws).out) for key, case_id in ids.items()}
    assert (shown["cn"]["redress"], shown["cn"]["redress_currency"]) == (800, "CNY")
    assert (shown["us"]["redress"], shown["us"]["redress_currency"]) == (20, "USD")
    # No currency given: the file keeps none (old files stay valid) and reports use the default.
    assert shown["uk"]["redress"] == 45.5 and shown["uk"].get("redress_currency") is None
    assert cli("validate", cwd=ws).code == 0
    verified = cli("audit", "verify", "--json", cwd=ws)
    assert verified.code == 0 and json.loads(verified.out)["findings"] == 0, verified.out


@pytest.mark.parametrize(
    "args, message",
    [
        (("--redress", "800 CNY", "--currency", "GBP"), "says CNY but --currency says GBP"),
        (("--redress", "800", "--currency", "XYZ"), "not an ISO 4217 currency code"),
        (("--redress", "-5"), "not an amount"),
        (("--currency", "GBP"), "--currency needs --redress"),
    ],
)
def test_bad_money_is_refused_and_changes_nothing(cli, ws, args, message):
    case_id = file_case(cli, ws, "Refund please")
    head = git(ws, "rev-parse", "HEAD")
    done = resolve(cli, ws, case_id, *args)
    assert done.code == 2 and message in done.err, done.err
    assert git(ws, "rev-parse", "HEAD") == head  # nothing written


def test_totals_are_per_currency_and_never_summed(cli, money_ws):
    ws, _ = money_ws
    stats = json.loads(cli("stats", "--period", "2025-11", "--json", cwd=ws).out)
    assert stats["redress"] == [
        {"currency": "CNY", "amount": 810.0, "cases": 2},  # 800 CNY + 10 in the workspace's CNY
        {"currency": "GBP", "amount": 45.5, "cases": 1},
        {"currency": "USD", "amount": 20.0, "cases": 1},
    ]
    assert stats["redress_total"] is None
    report = cli("report", "compliance", "--period", "2025-11", cwd=ws).out
    assert "| Redress paid (CNY) | 810.00 |" in report and "| Redress paid (GBP) | 45.50 |" in report
    assert "875.50" not in report and "| Redress paid | " not in report


def test_fca_return_counts_only_its_regime_in_sterling(cli, money_ws):
    ws, ids = money_ws
    fca = cli("report", "fca", "--period", "2025-H2", "-f", "csv", cwd=ws)
    assert fca.code == 0, fca.err
    rows = fca.out.splitlines()
    assert len(rows) == 2 and rows[1].startswith("Card,")  # the UK case only
    markdown = cli("report", "fca", "--period", "2025-H2", cwd=ws).out
    assert "| Total number of complaints opened during the reporting period | 1 |" in markdown
    assert "| Redress paid (GBP) | 45.50 |" in markdown
    assert "| Currency | GBP |" in markdown


def test_rules_yaml_currencies_are_checked_with_their_line(cli, ws):
    rules = ws / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    text = text.replace("\n  currency: CNY\n", "\n  currency: RMB\n", 1)  # reporting.currency
    text = text.replace("    currency: USD\n", "    currency: dollars\n", 1)  # regimes.cfpb
    rules.write_text(text, encoding="utf-8")
    done = cli("validate", cwd=ws)
    assert done.code != 0
    lines = {line.split(" RULES_INVALID ")[1].split(":")[0]: line for line in done.out.splitlines()}
    assert "'RMB' is not an ISO 4217 currency code" in lines["reporting.currency"]
    assert "'dollars'" in lines["regimes.cfpb.currency"]
    assert all(line.startswith("rules.yaml:") and line.split(":")[1].isdigit() for line in lines.values())
