"""Concurrent writers on the real clock (no --now, no CMTOOL_NOW): the time of an
action is read once the workspace lock is held, so a writer that waited is never
"in the past" and every action is kept, in time order."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cmtool.model.timefmt import parse_time
from tests.conftest import git
from tests.test_concurrency import action_commits, all_events

WRITERS = 20
ACTIONS_EACH = 10

# One process per writer, running the real command line ten times in a row: the
# same code path as ten `cmtool note` calls, without paying interpreter start-up
# 200 times on a busy machine.
WRITER = """
import sys
from cmtool.cli.app import run
number, cases = sys.argv[1], sys.argv[2:]
for step in range(10):
    marker = f"w{number}-a{step}"
    code = run(["note", cases[step % len(cases)], marker])
    print("result", marker, code, flush=True)
"""


def real_clock_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CMTOOL_NOW"}
    return {**env, "CMTOOL_LOCK_TIMEOUT": "600", "CMTOOL_ACTOR": "alice"}


def run_writer(root: Path, number: int, cases: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", WRITER, f"{number:02d}", *cases],
        cwd=root,
        env=real_clock_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.parametrize("spread", ["one case", "twenty cases"])
def test_twenty_writers_on_the_real_clock_keep_every_action(ws, spread):
    count = 1 if spread == "one case" else WRITERS
    filed = [
        subprocess.run(
            [sys.executable, "-m", "cmtool", "file", "--title", f"shared {n}"],
            cwd=ws,
            env=real_clock_env(),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for n in range(count)
    ]
    before = len(action_commits(ws))
    with ThreadPoolExecutor(WRITERS) as pool:
        done = list(
            pool.map(lambda n: run_writer(ws, n, filed[n % count :] + filed[: n % count]), range(WRITERS))
        )
    for worker in done:
        assert worker.returncode == 0, worker.stderr
        assert "error" not in worker.stderr, worker.stderr
    outcomes = [
        line.split()[1:]
        for worker in done
        for line in worker.stdout.splitlines()
        if line.startswith("result ")
    ]
    assert len(outcomes) == WRITERS * ACTIONS_EACH
    assert [marker for marker, code in outcomes if code != "0"] == []

    # Every action: one event and one commit.
    events = all_events(ws)
    notes = sorted(e["note"] for e in events if e["action"] == "note")
    assert notes == sorted(marker for marker, _code in outcomes)
    assert len(action_commits(ws)) - before == WRITERS * ACTIONS_EACH

    # Events of each case in time order, and commits in time order along history.
    by_case: dict[str, list] = {}
    for event in events:
        by_case.setdefault(event["case"], []).append(parse_time(event["at"]))
    for moments in by_case.values():
        assert moments == sorted(moments)
    dates = [parse_time(line) for line in git(ws, "log", "--reverse", "--format=%aI").split()]
    assert dates == sorted(dates)
    assert git(ws, "status", "--porcelain") == ""
    verified = subprocess.run(
        [sys.executable, "-m", "cmtool", "audit", "verify"],
        cwd=ws,
        env=real_clock_env(),
        capture_output=True,
        text=True,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_fixed_time_before_the_last_event_is_still_refused(ws, cli):
    case_id = cli("file", "--title", "Kettle leaks", "--now", "2026-03-02T10:00:00+00:00", cwd=ws).out.strip()
    refused = cli("note", case_id, "too early", "--now", "2026-03-02T09:00:00+00:00", cwd=ws)
    assert refused.code == 2
    assert "is before the last event" in refused.err
    assert cli("note", case_id, "on time", "--now", "2026-03-02T10:00:00+00:00", cwd=ws).code == 0


def test_a_colleagues_clock_a_little_ahead_is_followed_not_refused(ws):
    """Another machine's clock ran two minutes ahead: the next action here is dated
    at that last event (never before it), not refused."""
    from datetime import datetime, timedelta

    ahead = (datetime.now().astimezone() + timedelta(minutes=2)).replace(microsecond=0).isoformat()
    env = real_clock_env()
    filed = subprocess.run(
        [sys.executable, "-m", "cmtool", "file", "--title", "Kettle leaks", "--now", ahead],
        cwd=ws,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    noted = subprocess.run(
        [sys.executable, "-m", "cmtool", "note", filed, "called back", "--json"],
        cwd=ws,
        env=env,
        capture_output=True,
        text=True,
    )
    assert noted.returncode == 0, noted.stderr
    events = json.loads(noted.stdout)["events"]
    assert parse_time(events[-1]["at"]) == parse_time(ahead)


def test_a_last_event_days_ahead_is_refused_on_the_real_clock(ws):
    from datetime import datetime, timedelta

    later = (datetime.now().astimezone() + timedelta(days=3)).replace(microsecond=0).isoformat()
    env = real_clock_env()
    filed = subprocess.run(
        [sys.executable, "-m", "cmtool", "file", "--title", "Kettle leaks", "--now", later],
        cwd=ws,
        env={**env, "CMTOOL_ALLOW_FUTURE": "1"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    noted = subprocess.run(
        [sys.executable, "-m", "cmtool", "note", filed, "called back"],
        cwd=ws,
        env=env,
        capture_output=True,
        text=True,
    )
    assert noted.returncode == 2
    assert "more than a day ahead of this computer's clock" in noted.stderr
