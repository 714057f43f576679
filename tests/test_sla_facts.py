"""Clock facts in the index: `sla check` times only the cases that may need it, and
says exactly what timing every open case would say.

Each answer is compared with a full recomputation (every open case built from the
index and every clock timed, as `sla check` did before facts existed) on a
workspace made by the benchmarks' generator, at moments on either side of many
warning and due moments, after a rules.yaml change and after a calendar fix.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from cmtool.rules.loader import load_rules
from cmtool.services.context import make_context
from cmtool.services.sla_sweep import OPEN, SweepResult, _sweep, _sweep_facts, deriver, facts_key, sla_check
from cmtool.sla.facts import Stored, derive, timed
from cmtool.store import catalog
from cmtool.store.workspace import find_workspace
from tests.conftest import git

GENERATOR = Path(__file__).resolve().parents[1] / "benchmarks" / "generate.py"
END = datetime.fromisoformat("2025-11-20T18:00:00+08:00")


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """300 cases filed over the 40 days before END: a live mix of running, waiting,
    stopped and breached clocks."""
    root = tmp_path_factory.mktemp("facts") / "ws"
    made = subprocess.run(
        [
            sys.executable,
            str(GENERATOR),
            str(root),
            "--cases",
            "300",
            "--days",
            "40",
            "--end",
            END.isoformat(),
        ],
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr[-500:]
    return root


@pytest.fixture
def ws(generated, tmp_path) -> Path:
    root = tmp_path / "ws"
    subprocess.run(["git", "clone", "-q", str(generated), str(root)], check=True)
    for key, value in (("user.name", "Test Runner"), ("user.email", "runner@example.com")):
        git(root, "config", key, value)
    return root


def full_recomputation(root: Path, now: datetime) -> SweepResult:
    """Every open case built and every clock timed."""
    ws = find_workspace(root)
    cases = catalog.all_cases(ws, statuses=OPEN, skip_broken=True)
    return _sweep(cases, load_rules(ws.rules_path), now)[0]


def moments() -> list[datetime]:
    """Every 9 hours 17 minutes from 10 days before END to 12 days after: off the
    hour, so the sweep lands inside and outside working hours, before and after
    warning and due moments."""
    start = END - timedelta(days=10)
    return [start + timedelta(minutes=557 * i) for i in range(int(22 * 24 * 60 / 557))]


def assert_same_as_full(root: Path, at: list[datetime]) -> tuple[int, int]:
    """sla check with facts equals the full recomputation at each moment, findings
    and rungs due alike; returns how many findings were compared and how many
    cases the facts alone answered for (so a test can show neither was empty)."""
    compared = from_facts = 0
    ws = find_workspace(root)
    for now in at:
        result = sla_check(make_context(root, now=now.isoformat()))
        full, full_due = _sweep(
            catalog.all_cases(ws, statuses=OPEN, skip_broken=True), load_rules(ws.rules_path), now
        )
        assert [f.to_dict() for f in result.findings] == [f.to_dict() for f in full.findings], now
        assert (result.cases_checked, result.clocks_checked) == (full.cases_checked, full.clocks_checked)
        rules = load_rules(ws.rules_path)
        chosen = catalog.cases_to_time(ws, OPEN, facts_key(ws), deriver(rules), now)
        assert _sweep_facts(chosen, rules, now)[1] == full_due, now
        from_facts += sum(
            1
            for case_id, _p, facts in chosen.facts
            if facts and timed(case_id, Stored.read(facts), rules, now)
        )
        compared += len(full.findings)
    return compared, from_facts


def test_facts_answer_as_the_full_recomputation_at_every_moment(ws):
    compared, from_facts = assert_same_as_full(ws, moments())
    assert compared > 100  # warnings and breaches were really compared
    assert from_facts > 100  # and many overdue cases were answered from their facts alone


def test_quiet_cases_are_not_built(ws):
    """At a moment where most open clocks are far from due, few cases are timed."""
    root = find_workspace(ws)
    rules = load_rules(root.rules_path)
    now = END - timedelta(days=3)
    chosen = catalog.cases_to_time(root, OPEN, facts_key(root), deriver(rules), now)
    timed, quiet = list(chosen.cases([path for _id, path, _f in chosen.facts]).values()), chosen.quiet_cases
    assert quiet > 0 and len(timed) < len(catalog.all_cases(root, statuses=OPEN))
    full = full_recomputation(ws, now)
    assert {f.clock.case_id for f in full.findings} <= {c.id for c in timed}
    # Nothing timed needlessly beyond cases that wake by then or wait on the customer.
    for case in timed:
        facts = derive(case, rules)
        assert facts.moving or (facts.wake is not None and facts.wake <= now)


def test_cli_json_equals_full_recomputation_after_rules_change_and_calendar_fix(ws, cli):
    at = END + timedelta(days=1, hours=3)

    def cli_rows() -> list[dict]:
        done = cli("sla", "check", "--json", "--now", at.isoformat(), cwd=ws)
        assert done.code in (0, 1), done.err
        return json.loads(done.out)

    def full_rows() -> list[dict]:
        return json.loads(json.dumps([f.to_dict() for f in full_recomputation(ws, at).findings]))

    before = cli_rows()
    assert before == full_rows() and before

    # A new target: standard cases get 3 business days instead of 10.
    rules = ws / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    assert "      resolution: 10bd\n" in text
    rules.write_text(text.replace("      resolution: 10bd\n", "      resolution: 3bd\n"), encoding="utf-8")
    shorter = cli_rows()
    assert shorter == full_rows()
    assert len(shorter) > len(before)  # the change re-timed cases whose facts were stored

    # A calendar fix: the Monday after END becomes a holiday for cn_business.
    assert "extra_holidays: [2025-12-31]" in text
    rules.write_text(
        rules.read_text(encoding="utf-8").replace(
            "extra_holidays: [2025-12-31]", "extra_holidays: [2025-11-24, 2025-12-31]"
        ),
        encoding="utf-8",
    )
    assert_same_as_full(ws, [END + timedelta(days=d, hours=h) for d in range(2, 8) for h in (1, 9, 17)])
    assert cli_rows() == full_rows()


def test_hand_edits_broken_files_and_waiting_cases(ws, cli):
    """A case edited by hand is re-derived; a broken file is skipped and reported as
    before; a case put on hold is timed on every sweep (its due moves with time)."""
    root = find_workspace(ws)
    open_cases = catalog.all_cases(root, statuses=OPEN)
    open_ids = [c.id for c in open_cases]
    later = END + timedelta(hours=1)
    owner = open_cases[0].get("assignee")
    waited = cli(
        "wait", open_ids[0], "--reason", "photos", "--actor", owner, "--now", later.isoformat(), cwd=ws
    )
    assert waited.code == 0, waited.err
    assert_same_as_full(ws, [later + timedelta(hours=h) for h in (1, 30, 200, 2000)])

    path = root.root / root.case_relpath(open_ids[1])
    data = path.read_text(encoding="utf-8")
    edited = re.sub(r"(?m)^filed_at: .*$", 'filed_at: "2025-09-01T09:00:00+08:00"', data, count=1)
    assert edited != data
    path.write_text(edited, encoding="utf-8")
    (path.parent / "CP-broken.yaml").write_text("events: [\n", encoding="utf-8")
    assert_same_as_full(ws, [later + timedelta(hours=h) for h in (2, 50)])
    done = cli("sla", "check", "--json", "--now", later.isoformat(), cwd=ws)
    assert done.code == 1
    assert any(row.get("type") == "skipped_file" for row in json.loads(done.out))


def test_apply_commits_what_the_full_recomputation_finds_due(ws, cli):
    at = END + timedelta(days=2, hours=5)
    full = _sweep(catalog.all_cases(find_workspace(ws), statuses=OPEN), load_rules(ws / "rules.yaml"), at)[1]
    expected = sorted((step.case_id, step.clock, step.step.name) for s in full.values() for step in s)
    assert expected
    sweep = ("sla", "check", "--apply", "--actor", "sla-bot", "--now", at.isoformat(), "--json")
    done = cli(*sweep, cwd=ws)
    assert done.code in (0, 1), done.err
    changed = git(ws, "show", "--name-only", "--format=", "HEAD").split()
    assert sorted({Path(p).stem for p in changed}) == sorted({case_id for case_id, _c, _s in expected})
    again = cli(*sweep, cwd=ws)
    assert (
        "applied" not in again.err and git(ws, "show", "--name-only", "--format=", "HEAD").split() == changed
    )
    verified = cli("audit", "verify", cwd=ws)
    assert verified.code == 0, verified.out


def test_on_the_real_clock(ws, cli, monkeypatch):
    """Without --now: the same clocks in the same states as a full recomputation."""
    monkeypatch.delenv("CMTOOL_NOW")
    done = cli("sla", "check", "--json", cwd=ws)
    full = full_recomputation(ws, datetime.now().astimezone())
    assert done.code == 1
    shown = [(r["case_id"], r["clock"], r["state"], r["due_at"]) for r in json.loads(done.out)]
    assert shown == [(f.clock.case_id, f.clock.clock, f.clock.state, f.clock.due_at) for f in full.findings]
    assert shown
