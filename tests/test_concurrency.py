"""Many cmtool processes on one workspace at once: the lock serialises them and
no update is lost; a lock holder killed with -9 does not block the next command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from tests.conftest import git

WRITERS = 20
ACTIONS_EACH = 10


def cmtool(root: Path, *args: str, timeout: float = 600, **env: str) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "CMTOOL_LOCK_TIMEOUT": "600", **env}
    return subprocess.run(
        [sys.executable, "-m", "cmtool", *args],
        cwd=root,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def all_events(root: Path) -> list[dict]:
    events = []
    for path in (root / "cases").rglob("C-*.yaml"):
        data = yaml.safe_load(path.read_text())
        events += [dict(e, case=data["id"]) for e in data["events"]]
    return events


def action_commits(root: Path) -> list[str]:
    out = git(root, "log", "--format=%(trailers:key=Cmtool-Action,valueonly)%x00")
    return [record.strip() for record in out.split("\0") if record.strip()]


def writer(root: Path, number: int, cases: list[str]) -> list[tuple[str, int, str]]:
    """One person (or cron job): ten actions one after another; every fifth files a case."""
    results = []
    for step in range(ACTIONS_EACH):
        marker = f"w{number:02d}-a{step}"
        if step % 5 == 4:
            done = cmtool(root, "file", "--title", marker, "--channel", "email")
        else:
            internal = ["--internal"] if step % 2 else []
            done = cmtool(root, "note", cases[(number + step) % len(cases)], marker, *internal)
        results.append((marker, done.returncode, done.stderr))
    return results


def test_twenty_writers_lose_no_update(ws):
    cases = [cmtool(ws, "file", "--title", f"shared {n}").stdout.strip() for n in range(4)]
    before = len(action_commits(ws))
    with ThreadPoolExecutor(WRITERS) as pool:  # each thread drives its own processes
        outcomes = list(pool.map(lambda n: writer(ws, n, cases), range(WRITERS)))
    results = [item for worker in outcomes for item in worker]
    assert [(m, code, err) for m, code, err in results if code != 0] == []

    markers = {m for m, _code, _err in results}
    assert len(markers) == WRITERS * ACTIONS_EACH
    events = all_events(ws)
    seen = [e.get("note") for e in events if e["action"] in ("note", "internal_note")]
    seen += [e["changes"]["title"][1] for e in events if e["action"] == "file"]
    found = [m for m in seen if m in markers]
    assert sorted(found) == sorted(markers)  # every action's event, exactly once
    assert len(action_commits(ws)) - before == WRITERS * ACTIONS_EACH
    assert git(ws, "fsck", "--no-progress", "--strict").strip() == ""
    assert git(ws, "status", "--porcelain") == ""
    checked = cmtool(ws, "validate")
    assert checked.returncode == 0, checked.stdout + checked.stderr


HOLDER = """
import sys, time
from pathlib import Path
from cmtool.store.lock import workspace_lock
with workspace_lock(Path(sys.argv[1]) / ".git" / "cmtool.lock"):
    print("held", flush=True)
    time.sleep(600)
"""


def test_a_killed_lock_holder_does_not_block_the_next_command(ws):
    case_id = cmtool(ws, "file", "--title", "Kettle leaks").stdout.strip()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(ws)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        waited = cmtool(ws, "note", case_id, "while locked", CMTOOL_LOCK_TIMEOUT="1")
        assert waited.returncode == 5
        assert f"pid {holder.pid}" in waited.stderr and "Traceback" not in waited.stderr
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    after = cmtool(ws, "note", case_id, "after the kill", CMTOOL_LOCK_TIMEOUT="1")
    assert after.returncode == 0, after.stderr
    assert cmtool(ws, "doctor").returncode == 0
