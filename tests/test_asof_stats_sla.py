"""`--as-of` on `cmtool stats` and `cmtool sla check`: the workspace as it stood
then, rebuilt from git history, through the real CLI.

The clock of the test suite is Friday 2025-11-21 17:30 (+08:00). The story:
- A: a logistics complaint filed on 2025-10-30, still open;
- B: a safety complaint (critical: 2 h first response on the 24x7 calendar)
  filed on Friday 2025-11-14 09:00, left alone that day, resolved on 11-18.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import git

LAST_WEEK = "2025-11-14"
B_FILED = "2025-11-14T09:00:00+08:00"


def run(cli, ws, *args):
    result = cli(*args, cwd=ws)
    assert result.code == 0, result.err
    return result.out.strip()


@pytest.fixture
def story(ws, cli):
    a = run(
        cli,
        ws,
        "file",
        "--title",
        "Parcel lost in transit",
        "--channel",
        "email",
        "--now",
        "2025-10-30T10:00:00+08:00",
    )
    b = run(cli, ws, "file", "--title", "电热水壶起火", "--channel", "phone", "--now", B_FILED)
    filed_b = git(ws, "rev-parse", "HEAD").strip()
    run(cli, ws, "resolve", b, "--resolution", "kettle replaced", "--now", "2025-11-18T10:00:00+08:00")
    return {"a": a, "b": b, "filed_b": filed_b}


def sla(cli, ws, *args):
    result = cli("sla", "check", "--json", *args, cwd=ws)
    return result, (json.loads(result.out) if result.out.strip() else None)


def test_sla_check_as_of_last_week_shows_a_breach_since_resolved(ws, cli, story):
    b = story["b"]
    result, rows = sla(cli, ws)
    assert result.code == 1, result.err  # A has been overdue for weeks
    assert b not in {r["case_id"] for r in rows}  # resolved: no running clock today

    result, rows = sla(cli, ws, "--as-of", LAST_WEEK)  # clocks at 2025-11-14 23:59:59
    assert result.code == 1, result.err
    breached = {(r["case_id"], r["clock"]): r for r in rows if r["state"] == "breached"}
    first = breached[(b, "first_response")]
    assert first["due_at"] == "2025-11-14T11:00:00+08:00"
    assert first["wall_seconds_left"] == -(12 * 3600 + 59 * 60 + 59)
    assert first["new"] is True and first["step"] is not None  # nobody had escalated yet


def test_as_of_a_time_or_a_commit_measures_at_that_moment(ws, cli, story):
    b = story["b"]

    def states(rows):
        return {r["clock"]: r["state"] for r in rows if r["case_id"] == b}

    result, rows = sla(cli, ws, "--as-of", "2025-11-14T10:00:00+08:00")
    assert result.code == 1, result.err  # A
    assert "breached" not in states(rows).values()
    assert states(rows).get("first_response") != "breached"
    # a commit stands for its own date: B had just been filed, nothing in warning yet
    result, rows = sla(cli, ws, "--as-of", story["filed_b"][:12])
    assert result.code == 1, result.err
    assert states(rows) == {}
    # an explicit --now still wins: the cases of then, measured later
    result, rows = sla(cli, ws, "--as-of", story["filed_b"], "--now", "2025-11-14T12:00:00+08:00")
    assert result.code == 1
    assert states(rows)["first_response"] == "breached"


def test_as_of_reads_the_rules_of_then_and_refuses_apply(ws, cli, story):
    head = git(ws, "rev-parse", "HEAD").strip()
    applied = cli("sla", "check", "--as-of", LAST_WEEK, "--apply", cwd=ws)
    assert applied.code == 2 and "--apply cannot be combined with --as-of" in applied.err
    assert "Traceback" not in applied.err
    assert git(ws, "rev-parse", "HEAD").strip() == head  # nothing written
    # A broken rules.yaml today stops today's check, not a look at last week's.
    (ws / "rules.yaml").write_text("sla: [unclosed\n", encoding="utf-8")
    assert cli("sla", "check", cwd=ws).code == 2
    result, rows = sla(cli, ws, "--as-of", LAST_WEEK)
    assert result.code == 1, result.err


def test_sla_check_as_of_bad_dates(ws, cli, story):
    early = cli("sla", "check", "--as-of", "2020-01-01", cwd=ws)
    assert early.code == 3 and "no commit at or before" in early.err
    bad = cli("sla", "check", "--as-of", "last tuesday", cwd=ws)
    assert bad.code == 2 and "neither a date" in bad.err


def stats(cli, ws, *args):
    return json.loads(run(cli, ws, "stats", "--json", *args))


def test_stats_as_of_counts_as_of_then(ws, cli, story):
    today = stats(cli, ws)
    assert today["period"]["label"] == "2025-11" and today["as_of"] is None
    assert (today["received"], today["closed"], today["open_at_end"]) == (1, 1, 1)
    assert today["data_commit"] == git(ws, "rev-parse", "HEAD").strip()

    then = stats(cli, ws, "--as-of", LAST_WEEK)
    assert then["period"]["label"] == "2025-11"  # the month of the as-of moment
    assert then["as_at"] == "2025-11-14T23:59:59+08:00"
    assert (then["received"], then["closed"], then["open_at_end"]) == (1, 0, 2)
    assert then["data_commit"] == story["filed_b"]
    [first] = [c for c in then["sla"] if c["clock"] == "first_response"]
    assert first["breached_open"] >= 1  # B was running past due that night

    october = stats(cli, ws, "--as-of", "2025-10-31")
    assert october["period"]["label"] == "2025-10"
    assert (october["received"], october["open_at_end"]) == (1, 1)
    fixed = stats(cli, ws, "--as-of", "2025-10-31", "--period", "2025-10")
    assert fixed["received"] == 1 and fixed["as_at"] == october["as_at"]


def test_stats_as_of_today_is_not_in_the_future(ws, cli, story):
    today = stats(cli, ws, "--as-of", "2025-11-21")
    assert today["as_at"] == "2025-11-21T17:30:00+08:00"  # the suite's "now", not 23:59:59
    plain = stats(cli, ws)
    assert {k: today[k] for k in ("received", "closed", "open_at_end")} == {
        k: plain[k] for k in ("received", "closed", "open_at_end")
    }
