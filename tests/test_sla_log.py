"""`cmtool sla check --jsonl` and `--changed`: a log a machine can read, and only
what is new since the previous sweep (the ledger lives in .git/cmtool/)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import git


@pytest.fixture
def critical(ws, cli):
    """A safety complaint filed Friday 2025-11-21 17:30 Shanghai: critical, first
    response 2 h on the 24x7 calendar, so due 19:30; the warn rung (80 %) is at
    19:06, the breach rung at 19:30, the manager rung 4 h later (23:30)."""
    result = cli("file", "--title", "电热水壶起火", "--channel", "phone", "--actor", "alice", cwd=ws)
    assert result.code == 0, result.err
    return result.out.strip()


def sweep(cli, ws, now, *args):
    result = cli("sla", "check", "--jsonl", "--now", now, *args, cwd=ws)
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert lines and lines[-1]["type"] == "summary", result.out + result.err
    return result.code, lines[:-1], lines[-1]


def test_jsonl_has_one_object_per_clock_and_a_summary(ws, cli, critical):
    code, clocks, summary = sweep(cli, ws, "2025-11-21T20:30:00+08:00")
    assert code == 1
    assert [(c["type"], c["case_id"], c["clock"], c["state"]) for c in clocks] == [
        ("clock", critical, "first_response", "breached")
    ]
    [clock] = clocks
    assert clock["time"] == "2025-11-21T20:30:00+08:00"
    assert clock["due_at"] == "2025-11-21T19:30:00+08:00" and clock["wall_seconds_left"] == -3600
    # notify carries names and the addresses people: gives them
    assert clock["notify"] == ["alice", "dana"]
    assert clock["recipients"] == [
        {"name": "alice", "email": "alice@example.com"},
        {"name": "dana", "email": "dana@example.com"},
    ]
    assert summary["time"] == "2025-11-21T20:30:00+08:00"
    assert (summary["cases"], summary["breached"], summary["warning"], summary["new_breaches"]) == (
        1,
        1,
        0,
        1,
    )
    assert summary["data_commit"] == git(ws, "rev-parse", "HEAD").strip()
    assert 0 <= summary["duration_seconds"] < 60
    assert summary["skipped_files"] == 0 and summary["changed_only"] is False


def test_changed_shows_each_new_state_or_rung_once(ws, cli, critical):
    def changed(now, *extra):
        code, clocks, summary = sweep(cli, ws, now, "--changed", *extra)
        assert summary["changed_only"] is True
        return code, [(c["clock"], c["state"], c["rung"]) for c in clocks]

    assert changed("2025-11-21T18:00:00+08:00") == (0, [])
    assert changed("2025-11-21T19:10:00+08:00") == (0, [("first_response", "warning", "warn")])
    assert changed("2025-11-21T19:20:00+08:00") == (0, [])  # still the same warning
    # a dry run shows the news but leaves the ledger: the real sweep still sees it
    assert changed("2025-11-21T20:30:00+08:00", "--apply", "--dry-run") == (
        1,
        [("first_response", "breached", "breach")],
    )
    assert changed("2025-11-21T20:30:00+08:00") == (1, [("first_response", "breached", "breach")])
    # --apply records the breach rung: the clock stays at that rung, nothing new to say
    assert changed("2025-11-21T20:40:00+08:00", "--apply", "--actor", "sla-bot") == (0, [])
    assert changed("2025-11-21T21:00:00+08:00") == (0, [])
    assert changed("2025-11-21T23:40:00+08:00") == (1, [("first_response", "breached", "manager")])
    # the ledger is the clone's own: the work tree stays clean
    assert (ws / ".git" / "cmtool" / "sla-ledger.json").is_file()
    assert git(ws, "status", "--porcelain") == ""
    assert cli("audit", "verify", cwd=ws).code == 0


def test_changed_is_refused_with_as_of(ws, cli, critical):
    result = cli("sla", "check", "--changed", "--as-of", "2025-11-21", cwd=ws)
    assert result.code == 2 and "--changed cannot be combined with --as-of" in result.err


def test_a_sweep_timed_earlier_does_not_roll_the_ledger_back(ws, cli, critical):
    assert sweep(cli, ws, "2025-11-21T23:40:00+08:00", "--changed")[1][0]["rung"] == "manager"
    late_finisher = sweep(cli, ws, "2025-11-21T20:30:00+08:00", "--changed")[1]
    assert [c["rung"] for c in late_finisher] == ["breach"]  # news to it, judged against the ledger
    assert sweep(cli, ws, "2025-11-21T23:45:00+08:00", "--changed")[1] == []  # the manager rung is old news
