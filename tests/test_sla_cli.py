"""`cmtool sla check|extend|exclude`, `list --overdue/--due-within`, clocks in `show`:
the real CLI against real workspaces."""

from __future__ import annotations

import fcntl
import json
import time

import pytest

from tests.conftest import git

FILED = "2025-11-21T17:30:00+08:00"  # a Friday, Shanghai


@pytest.fixture
def critical(ws, cli):
    """A safety complaint: critical, 2 h first response on the 24x7 calendar (due 19:30)."""
    result = cli("file", "--title", "电热水壶起火", "--channel", "phone", cwd=ws)
    assert result.code == 0, result.err
    return result.out.strip()


def check(cli, ws, *args, now):
    result = cli("sla", "check", "--now", now, *args, cwd=ws)
    data = json.loads(result.out) if result.out.strip().startswith("[") else None
    return result, data


def commits(ws) -> int:
    return int(git(ws, "rev-list", "--count", "HEAD").strip())


def test_exit_codes_and_json_over_time(ws, cli, critical):
    result, rows = check(cli, ws, "--json", now="2025-11-21T18:00:00+08:00")
    assert (result.code, rows) == (0, [])
    result, rows = check(cli, ws, "--json", now="2025-11-21T19:10:00+08:00")
    assert result.code == 0
    [warning] = rows
    assert warning["case_id"] == critical and warning["clock"] == "first_response"
    assert (warning["state"], warning["due_at"]) == ("warning", "2025-11-21T19:30:00+08:00")
    assert warning["wall_seconds_left"] == 20 * 60 and warning["step"] == "warn"
    result, rows = check(cli, ws, "--json", now="2025-11-21T20:30:00+08:00")
    assert result.code == 1
    breached = {r["clock"]: r for r in rows}["first_response"]
    assert breached["state"] == "breached" and breached["wall_seconds_left"] == -3600
    assert breached["new"] is True and breached["notify"] == ["alice", "dana"]
    assert set(breached) >= {
        "case_id",
        "clock",
        "source",
        "state",
        "due_at",
        "business_seconds_left",
        "wall_seconds_left",
        "paused_seconds",
    }


def test_apply_twice_commits_once_and_never_repeats_a_step(ws, cli, critical):
    before = commits(ws)
    now = "2025-11-21T20:30:00+08:00"
    first, _ = check(cli, ws, "--apply", "--json", "--actor", "sla-bot", now=now)
    assert first.code == 1 and "applied 1 escalation steps" in first.err
    assert commits(ws) == before + 1
    message = git(ws, "log", "-1", "--format=%B")
    assert "Cmtool-Action: sla_sweep" in message and f"Cmtool-Case: {critical}" in message
    second, _ = check(cli, ws, "--apply", "--json", "--actor", "sla-bot", now=now)
    assert second.code == 1 and "applied" not in second.err
    assert commits(ws) == before + 1
    case = json.loads(cli("show", critical, "--json", cwd=ws).out)
    steps = [(e["action"], e["clock"], e["step"]) for e in case["events"] if "step" in e]
    assert steps == [("sla_escalate", "first_response", "breach")]
    assert case["escalation_level"] == 1
    # Already escalated: --new-only sees no new breach and exits 0.
    assert check(cli, ws, "--new-only", "--quiet", now=now)[0].code == 0
    # Four hours later the manager rung fires, once.
    later = "2025-11-22T00:00:00+08:00"
    third, _ = check(cli, ws, "--apply", "--actor", "sla-bot", now=later)
    assert "applied 1 escalation steps" in third.err
    case = json.loads(cli("show", critical, "--json", cwd=ws).out)
    assert case["events"][-1]["step"] == "manager" and case["events"][-1]["notify"] == ["omar"]
    assert git(ws, "status", "--porcelain") == ""


def test_quiet_prints_nothing_when_nothing_is_wrong(ws, cli, critical):
    result, _ = check(cli, ws, "--quiet", now="2025-11-21T18:00:00+08:00")
    assert (result.code, result.out, result.err) == (0, "", "")


def test_a_held_lock_makes_apply_give_up_quickly(ws, cli, critical):
    with open(ws / ".git" / "cmtool.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        started = time.monotonic()
        result, _ = check(cli, ws, "--apply", "--lock-timeout", "0.5", now="2025-11-21T20:30:00+08:00")
        assert result.code == 5 and "busy" in result.err
        assert time.monotonic() - started < 30
        # Reading needs no lock.
        assert check(cli, ws, "--quiet", now="2025-11-21T18:00:00+08:00")[0].code == 0


def test_bad_now_and_broken_rules_exit_2(ws, cli, critical):
    assert check(cli, ws, now="yesterday")[0].code == 2
    (ws / "rules.yaml").write_text("sla:\n  policies: [{name: x, first_response: soon}]\n")
    result, _ = check(cli, ws, now="2025-11-21T18:00:00+08:00")
    assert result.code == 2 and "rules.yaml:2:" in result.err and "Traceback" not in result.err


def test_list_overdue_and_due_within(ws, cli, critical):
    calm = cli("file", "--title", "Parcel late", "--channel", "email", cwd=ws).out.strip()
    now = "2025-11-21T20:30:00+08:00"
    overdue = json.loads(cli("list", "--overdue", "--now", now, "--json", cwd=ws).out)
    assert [(r["id"], r["clock"]) for r in overdue] == [(critical, "first_response")]
    # The calm case: 8 business hours from Friday 17:30 -> Monday 17:30.
    soon = json.loads(
        cli("list", "--due-within", "4h", "--now", "2025-11-24T14:00:00+08:00", "--json", cwd=ws).out
    )
    assert [(r["id"], r["due_at"]) for r in soon] == [(calm, "2025-11-24T17:30:00+08:00")]
    assert cli("list", "--due-within", "soon", cwd=ws).code == 2


def test_show_lists_clocks_with_deadlines(ws, cli, critical):
    shown = json.loads(cli("show", critical, "--json", "--now", "2025-11-21T18:00:00+08:00", cwd=ws).out)
    clocks = {c["clock"]: c for c in shown["clocks"]}
    assert clocks["first_response"]["due_at"] == "2025-11-21T19:30:00+08:00"
    assert clocks["resolution"]["due_at"] == "2025-11-22T17:30:00+08:00"
    text = cli("show", critical, "--now", "2025-11-21T18:00:00+08:00", cwd=ws).out
    assert "Clocks:" in text and "due 2025-11-21T19:30:00+08:00  1h 30m left" in text


def test_wait_pauses_and_show_reports_paused_time(ws, cli):
    case = cli("file", "--title", "Parcel late", "--channel", "email", cwd=ws).out.strip()
    assert cli("wait", case, "--reason", "photos", "--now", "2025-11-24T10:00:00+08:00", cwd=ws).code == 0
    assert cli("resume", case, "--now", "2025-11-24T15:00:00+08:00", cwd=ws).code == 0
    shown = json.loads(cli("show", case, "--json", "--now", "2025-11-24T15:00:00+08:00", cwd=ws).out)
    first = {c["clock"]: c for c in shown["clocks"]}["first_response"]
    # Friday 17:30-18:00 and Monday 09-10 count (1.5 h); 10:00-15:00 is paused (4 working
    # hours, lunch excluded); Monday 15-18 (4.5 h); Tuesday 09-12 (7.5 h), 13:00-13:30.
    assert first["paused_seconds"] == 4 * 3600
    assert first["due_at"] == "2025-11-25T13:30:00+08:00"


def test_extend_and_exclude_for_china_banking(ws, cli):
    case = cli(
        "file",
        "--title",
        "理财产品纠纷",
        "--regime",
        "cn_banking",
        "--filed-at",
        "2025-11-03T10:00:00+08:00",
        "--now",
        "2025-11-03T10:00:00+08:00",
        cwd=ws,
    ).out.strip()
    clock = "cn_banking.decision"
    ok = cli(
        "sla",
        "extend",
        case,
        "--clock",
        clock,
        "--reason",
        "complex case",
        "--now",
        "2025-11-05T09:00:00+08:00",
        cwd=ws,
    )
    assert ok.code == 0 and "extended to 30d" in ok.out
    ok = cli(
        "sla",
        "exclude",
        case,
        "--from",
        "2025-11-10T00:00:00+08:00",
        "--to",
        "2025-11-15T00:00:00+08:00",
        "--reason",
        "external appraisal",
        "--now",
        "2025-11-16T09:00:00+08:00",
        cwd=ws,
    )
    assert ok.code == 0, ok.err
    shown = json.loads(cli("show", case, "--json", "--now", "2025-11-20T09:00:00+08:00", cwd=ws).out)
    decision = {c["clock"]: c for c in shown["clocks"]}[clock]
    assert decision["due_at"] == "2025-12-08T23:59:59+08:00"
    assert decision["paused_seconds"] == 5 * 86400
    assert shown["events"][-1]["note"] == "external appraisal"
    needs = cli(
        "sla",
        "extend",
        case,
        "--clock",
        clock,
        "--reason",
        "special",
        "--now",
        "2025-11-20T09:00:00+08:00",
        cwd=ws,
    )
    assert needs.code == 2 and "--approved-by" in needs.err
    assert (
        cli(
            "sla",
            "extend",
            case,
            "--clock",
            clock,
            "--reason",
            "special",
            "--approved-by",
            "omar",
            "--now",
            "2025-11-20T09:00:00+08:00",
            cwd=ws,
        ).code
        == 0
    )
    assert cli("sla", "extend", case, "--clock", "nope", "--reason", "x", cwd=ws).code == 2
    bad = cli("sla", "exclude", case, "--from", "2025-11-12", "--to", "2025-11-13", "--reason", "x", cwd=ws)
    assert bad.code == 2 and "offset" in bad.err
    log = git(ws, "log", "-1", "--format=%B")
    assert "Cmtool-Action: sla_extend" in log and f"Cmtool-Case: {case}" in log
