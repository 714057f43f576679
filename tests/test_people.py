"""People and roles for a real team: `cmtool init` starts with nobody (nothing is
role-checked), `--person` and `cmtool people add` list colleagues with one commit,
and from then on cmtool refuses (exit 4, naming the rule in rules.yaml) what
`audit verify` would flag afterwards."""

from __future__ import annotations

import json

import yaml
from conftest import git

F = "2025-11-03T10:00:00+08:00"


def _rules(ws) -> dict:
    return yaml.safe_load((ws / "rules.yaml").read_text(encoding="utf-8"))


def _file(cli, ws, *extra: str, title: str = "Kettle leaks") -> str:
    done = cli("file", "--title", title, "--channel", "phone", *extra, cwd=ws)
    assert done.code == 0, done.err
    return done.out.strip()


def test_a_new_team_starts_with_nobody_and_works_unchecked(tmp_path, cli):
    ws = tmp_path / "complaints"
    assert cli("init", str(ws)).code == 0
    rules = _rules(ws)
    assert rules["people"] == {}
    assert all(team["members"] == [] and "lead" not in team for team in rules["teams"].values())
    assert "cmtool people add" in (ws / "rules.yaml").read_text(encoding="utf-8")
    case = _file(cli, ws, "--actor", "mia", title="Charger overheats")  # mia is nobody yet: fine
    assert json.loads(cli("show", case, "--json", cwd=ws).out).get("assignee") is None  # no one to route to
    assert cli("assign", case, "--to", "mia", "--actor", "mia", cwd=ws).code == 0
    assert cli("validate", cwd=ws).code == 0
    verify = cli("audit", "verify", cwd=ws)
    assert verify.code == 0, verify.out


def test_init_with_a_team_of_five_in_one_commit(tmp_path, cli):
    ws = tmp_path / "complaints"
    team = [
        "mia:agent:service",
        "noah:agent:service",
        "olga:agent:quality",
        "pat:lead:quality",
        "quinn:manager",
    ]
    args = [arg for person in team for arg in ("--person", person)]
    assert cli("init", str(ws), *args).code == 0
    assert git(ws, "rev-list", "--count", "HEAD").strip() == "1"
    rules = _rules(ws)
    assert {name: spec["role"] for name, spec in rules["people"].items()} == {
        "mia": "agent",
        "noah": "agent",
        "olga": "agent",
        "pat": "lead",
        "quinn": "manager",
    }
    assert rules["teams"]["service"]["members"] == ["mia", "noah"]
    assert rules["teams"]["quality"] == {"members": ["olga", "pat"], "assign": "round_robin", "lead": "pat"}
    case = _file(cli, ws, "--actor", "pat", title="Kettle is defective")  # quality, round robin
    assert json.loads(cli("show", case, "--json", cwd=ws).out)["assignee"] == "olga"
    assert cli("validate", cwd=ws).code == 0
    bad = cli("init", str(tmp_path / "other"), "--person", "zed:wizard")
    assert bad.code == 2 and "wizard" in bad.err and not (tmp_path / "other" / "rules.yaml").exists()


def test_people_add_is_one_commit_and_keeps_the_rest_of_rules_yaml(tmp_path, cli):
    ws = tmp_path / "complaints"
    assert cli("init", str(ws)).code == 0
    before = (ws / "rules.yaml").read_text(encoding="utf-8")
    done = cli("people", "add", "ana:agent:billing", "ben:lead", "Li Wei:agent:quality", cwd=ws)
    assert done.code == 0, done.err
    after = (ws / "rules.yaml").read_text(encoding="utf-8")
    log = git(ws, "log", "-1", "--format=%B")
    assert "Cmtool-Action: people" in log and git(ws, "status", "--porcelain") == ""
    changed = [line for line in after.splitlines() if line not in before.splitlines()]
    assert all(line.startswith("  ") or line == "people:" for line in changed), changed  # only entries
    rules = _rules(ws)
    assert rules["people"]["Li Wei"] == {"role": "agent", "team": "quality"}
    assert rules["teams"]["service"] == {"members": ["ben"], "assign": "least_load", "lead": "ben"}
    assert cli("people", "add", "ana", "--actor", "ben", cwd=ws).code == 2  # already listed
    assert cli("validate", cwd=ws).code == 0
    # From now on only listed people (and system actors) act.
    assert cli("people", "add", "cat", "--actor", "ghost", cwd=ws).code == 4
    assert cli("people", "add", "cat", "--actor", "ben", cwd=ws).code == 0
    assert cli("audit", "verify", cwd=ws).code == 0


def test_refused_before_anything_is_written(ws, cli):
    """The issue's four: redress above the role's limit, an assignee who is not a
    person, an unknown --actor, an edit to a value `file` refuses; plus an approval."""
    case = _file(cli, ws, "--actor", "alice")
    head = git(ws, "rev-parse", "HEAD")
    text = next((ws / "cases").rglob(f"{case}.yaml")).read_text(encoding="utf-8")
    refusals = {
        "roles.agent.max_redress": (
            "resolve",
            case,
            "--resolution",
            "refund",
            "--redress",
            "800 GBP",
            "--actor",
            "bob",
        ),
        "'nobody-here' is not listed under people:": (
            "assign",
            case,
            "--to",
            "nobody-here",
            "--actor",
            "dana",
        ),
        "'ghost' is not listed under people:": ("note", case, "hello", "--actor", "ghost"),
        "'nonsense' is not under categories: in rules.yaml": (
            "edit",
            case,
            "--category",
            "nonsense",
            "--actor",
            "dana",
        ),
    }
    for rule, args in refusals.items():
        done = cli(*args, cwd=ws)
        assert done.code == 4 and rule in done.err, (args, done.err)
        assert len(done.err.strip().splitlines()) == 1  # one line: the rule and how to change it
    assert "cmtool people add" in cli("note", case, "hi", "--actor", "ghost", cwd=ws).err
    assert "raise roles.agent.max_redress" in cli(*refusals["roles.agent.max_redress"], cwd=ws).err
    assert git(ws, "rev-parse", "HEAD") == head and git(ws, "status", "--porcelain") == ""
    assert next((ws / "cases").rglob(f"{case}.yaml")).read_text(encoding="utf-8") == text
    assert cli("file", "--title", "x", "--category", "nonsense", cwd=ws).code == 2  # as file refuses it
    # Allowed: a lead settles 800; a system actor named in rules.yaml acts without being a person.
    assert (
        cli("resolve", case, "--resolution", "refund", "--redress", "800", "--actor", "dana", cwd=ws).code
        == 0
    )
    assert cli("sla", "check", "--apply", "--actor", "sla-bot", cwd=ws).code in (0, 1)
    assert cli("audit", "verify", cwd=ws).code == 0


def test_an_approval_needs_a_role_that_approves(ws, cli):
    case = _file(cli, ws, "--regime", "cn_banking", "--filed-at", F, "--now", F, "--actor", "alice")
    now = "2025-11-05T09:00:00+08:00"
    extend = ("sla", "extend", case, "--clock", "cn_banking.decision", "--now", now)
    assert cli(*extend, "--reason", "complex case", "--actor", "dana", cwd=ws).code == 0
    refused = cli(*extend, "--reason", "special", "--approved-by", "bob", "--actor", "dana", cwd=ws)
    assert refused.code == 4 and "approves: true" in refused.err, refused.err
    unknown = cli(*extend, "--reason", "special", "--approved-by", "boss", "--actor", "dana", cwd=ws)
    assert unknown.code == 4 and "'boss' is not listed under people:" in unknown.err
    ok = cli(*extend, "--reason", "special", "--approved-by", "omar", "--actor", "dana", cwd=ws)
    assert ok.code == 0, ok.err
    assert cli("audit", "verify", cwd=ws).code == 0
