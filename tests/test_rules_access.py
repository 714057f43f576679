"""roles:, people: and audit: in rules.yaml: `cmtool validate` checks them with line
numbers, the bundled example (agents settle up to 500) holds for the sample and the
demo, and `cmtool audit verify` judges actions by them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from audit_helpers import Clock, ctx, ordinary_history, outside_cmtool, verify_json
from conftest import git

from cmtool.errors import Refused
from cmtool.model.case import Case
from cmtool.rules.access import read_access
from cmtool.rules.loader import check_rules, load_rules
from cmtool.services import lifecycle

ROOT = Path(__file__).resolve().parent.parent
BUNDLED_RULES = ROOT / "rules.yaml"  # what cmtool/bundled/rules.yaml links to in a checkout

BROKEN = """\
version: 1
roles:
  agent:
    may: [file, note, fly]
    max_redress: "500 yuan"
    colour: red
  lead: {max_redress: true}
  manager: {may: "*", max_redress: -1}
people:
  alice: {role: agent}
  omar: {role: boss}
  bob: {}
audit:
  require_signed_commits: sometimes
  system_actors: [cmtool, ""]
  retention: 7y
"""


def problems_of(text: str) -> dict[str, tuple[int | None, str]]:
    """message key path -> (line, message)."""
    _rules, _data, problems = check_rules(text)
    return {p.message.split(":", 1)[0]: (p.line, p.message) for p in problems}


def test_every_bad_roles_people_audit_entry_with_its_line():
    found = problems_of(BROKEN)
    assert {key: line for key, (line, _m) in found.items()} == {
        "roles.agent.colour": 6,
        "roles.agent.may[2]": 4,
        "roles.agent.max_redress": 5,
        "roles.lead.max_redress": 7,
        "roles.manager.max_redress": 8,
        "people.omar.role": 11,
        "audit.require_signed_commits": 14,
        "audit.system_actors[1]": 15,
        "audit.retention": 16,
    }
    assert "'fly' is not an action" in found["roles.agent.may[2]"][1]
    assert "'500 yuan' is not an amount" in found["roles.agent.max_redress"][1]
    assert "unknown role 'boss' (roles: agent, lead, manager)" in found["people.omar.role"][1]
    assert "'sometimes' must be true or false" in found["audit.require_signed_commits"][1]


def test_without_roles_section_the_three_default_roles_exist():
    found = problems_of("people:\n  a: {role: lead}\n  b: {role: chief}\n")
    assert list(found) == ["people.b.role"] and found["people.b.role"][0] == 3


def test_validate_cli_reports_them(ws, cli):
    rules = ws / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    text = text.replace("max_redress: {GBP: 500,", "max_redress: {GBP: five hundred,")
    text = text.replace("require_signed_commits: false", "require_signed_commits: maybe")
    rules.write_text(text, encoding="utf-8")
    result = cli("validate", "--json", cwd=ws)
    assert result.code == 1
    problems = {p["message"].split(":")[0]: p for p in json.loads(result.out)["problems"]}
    assert set(problems) == {"roles.agent.max_redress.GBP", "audit.require_signed_commits"}
    lines = text.splitlines()
    for key, needle in (
        ("roles.agent.max_redress.GBP", "five hundred"),
        ("audit.require_signed_commits", "maybe"),
    ):
        line = problems[key]["line"]
        assert needle in lines[line - 1], (key, line)
    text = cli("validate", cwd=ws).out
    assert f"rules.yaml:{problems['roles.agent.max_redress.GBP']['line']}: RULES_INVALID" in text


def test_bundled_example_agents_settle_up_to_500_pounds_or_5000_yuan():
    policy = load_rules(BUNDLED_RULES).access
    agent = policy.roles["agent"]
    assert policy.checks_roles and (agent.redress_limit("GBP"), agent.redress_limit("CNY")) == (500, 5000)
    assert agent.redress_limit("EUR") == 0  # a currency the limits do not name: not allowed
    assert policy.roles["lead"].max_redress is None and policy.roles["manager"].may is None
    assert {"cmtool", "sla-bot"} <= policy.system_actors
    assert policy.people["dana"] == "lead" and policy.people["bob"] == "agent"


def test_fresh_and_sample_workspaces_validate_clean(tmp_path, cli):
    for args in (("init", str(tmp_path / "fresh")), ("init", "--sample", str(tmp_path / "sample"))):
        assert cli(*args).code == 0
    for name in ("fresh", "sample"):
        result = cli("validate", "--json", "-w", str(tmp_path / name))
        assert (result.code, json.loads(result.out)["problems"]) == (0, []), name


def test_sample_actors_stay_within_the_example_limits():
    """Every action in the bundled sample is by a listed person (or a system actor)
    whose role allows it: agents never settle above their limit in the case's
    currency. (The sample arrives in a
    workspace's first commit, which has no rules before it, so verify cannot tell.)"""
    import yaml

    policy = load_rules(BUNDLED_RULES).access
    checked = 0
    for path in sorted((ROOT / "cmtool" / "bundled" / "cases").rglob("C-*.yaml")):
        case = Case.from_dict(yaml.safe_load(path.read_text(encoding="utf-8")))
        redress = currency = None
        for event in case.events:
            redress = event.changes.get("redress", (None, redress))[1]
            currency = event.changes.get("redress_currency", (None, currency))[1]
            if event.actor not in policy.system_actors:
                assert event.actor in policy.people, (path.name, event.actor)
            in_currency = policy.currency_of(currency, case.get("regimes"))
            assert policy.denial(event, redress, in_currency) is None, (path.name, event)
            checked += 1
    assert checked > 200


def test_demo_workspace_verifies_clean(tmp_path, cli):
    demo = tmp_path / "demo"
    assert cli("demo", str(demo)).code == 0
    result = cli("audit", "verify", "-w", str(demo))
    assert result.code == 0, result.out + result.err


def test_audit_verify_applies_the_bundled_limit(ws, cli):
    clock = Clock()
    ordinary_history(ws, 1, clock)  # bob (agent) resolves with redress 20: fine
    yuan = lifecycle.file_case(ctx(ws, "alice", clock), {"title": "Burnt toaster"})
    lifecycle.assign(ctx(ws, "dana", clock), yuan.id, "bob")
    # No currency given: the workspace's (reporting.currency CNY), whose limit is 5,000.
    lifecycle.resolve(ctx(ws, "bob", clock), yuan.id, "Paid for the toaster", redress=800)
    case = lifecycle.file_case(ctx(ws, "alice", clock), {"title": "Burnt kettle"})
    lifecycle.assign(ctx(ws, "dana", clock), case.id, "bob")
    with pytest.raises(Refused, match=r"roles\.agent\.max_redress 500 GBP"):  # cmtool refuses it...
        lifecycle.resolve(ctx(ws, "bob", clock), case.id, "Paid for the kitchen", redress="800 GBP")
    with outside_cmtool():  # ...so only a commit made outside cmtool can record it
        lifecycle.resolve(ctx(ws, "bob", clock), case.id, "Paid for the kitchen", redress="800 GBP")
    other = lifecycle.file_case(ctx(ws, "alice", clock), {"title": "Scorched counter"})
    lifecycle.assign(ctx(ws, "dana", clock), other.id, "bob")
    lifecycle.resolve(ctx(ws, "dana", clock), other.id, "Paid for the counter", redress=800)
    lifecycle.close(ctx(ws, "omar", clock), other.id)
    code, report = verify_json(cli, ws)
    denied = [(i["case_id"], i["message"]) for i in report["items"] if i["code"] == "ROLE_DENIED"]
    assert code == 1 and denied == [
        (
            case.id,
            "event 3: 'bob' (agent) may not resolve a case with redress 800 GBP "
            "(above roles.agent.max_redress 500 GBP in rules.yaml)",
        )
    ], report


def test_audit_reports_a_broken_roles_version_with_its_line(ws, cli):
    rules = ws / "rules.yaml"
    text = rules.read_text(encoding="utf-8").replace("max_redress: {GBP: 500,", "max_redress: {GBP: lots,")
    rules.write_text(text, encoding="utf-8")
    git(ws, "commit", "-q", "-m", "rules: a typo", "--", "rules.yaml")
    code, report = verify_json(cli, ws)
    [item] = [i for i in report["items"] if i["path"] == "rules.yaml"]
    assert code == 1 and item["code"] == "RULES_INVALID"
    assert "roles.agent.max_redress" in item["message"]
    assert "lots" in text.splitlines()[item["line"] - 1]


def test_read_access_is_tolerant_of_other_broken_sections():
    policy, problems = read_access(
        {"sla": "nonsense", "roles": {"agent": {"may": ["file"]}}, "people": {"bob": {"role": "agent"}}}
    )
    assert problems == [] and policy.checks_roles and policy.people == {"bob": "agent"}
