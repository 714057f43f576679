"""kill -9 at random points during actions and syncs, many times over.

After each kill, `cmtool doctor` (and `doctor --repair` when it finds
something) and the next command must succeed, and every action that reported
success must be in the history. Kills alternate between the cmtool process
alone (its git children run on, orphaned) and its whole process group (git
dies mid-write too). Bounded in count and time; CMTOOL_CRASH_KILLS and
CMTOOL_CRASH_SECONDS raise the bounds, CMTOOL_CRASH_SEED replays a run.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import yaml

from tests.conftest import git

KILLS = int(os.environ.get("CMTOOL_CRASH_KILLS", "24"))
SECONDS = float(os.environ.get("CMTOOL_CRASH_SECONDS", "240"))
SEED = int(os.environ.get("CMTOOL_CRASH_SEED", str(random.randrange(1 << 30))))
LATER = "2025-11-21T18:{:02d}:{:02d}+08:00"


def cmtool(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CMTOOL_LOCK_TIMEOUT": "120"}
    return subprocess.run(
        [sys.executable, "-m", "cmtool", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def start(root: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "CMTOOL_LOCK_TIMEOUT": "120"}
    return subprocess.Popen(
        [sys.executable, "-m", "cmtool", *args],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def kill_at_random(proc: subprocess.Popen, delay: float, whole_group: bool) -> bool:
    """Kill ``proc`` after ``delay`` seconds unless it finished; True if it was killed."""
    try:
        proc.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        if whole_group:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        return True


def heal(root: Path, stats: Counter) -> None:
    """doctor; doctor --repair when it found something. Both must work."""
    found = cmtool(root, "doctor", "--json")
    assert found.returncode in (0, 1), found.stderr
    codes = [f["code"] for f in json.loads(found.stdout)["findings"]]
    stats.update(codes or ["NOTHING_LEFT"])
    if found.returncode == 1:
        repaired = cmtool(root, "doctor", "--repair")
        assert repaired.returncode == 0, repaired.stdout + repaired.stderr


def committed_markers(root: Path, rev: str = "HEAD") -> Counter:
    """Notes and titles of every event in the committed case files."""
    markers: Counter = Counter()
    listing = git(root, "ls-tree", "-r", "--name-only", rev, "cases")
    for rel in listing.split():
        if rel.endswith(".yaml"):
            data = yaml.safe_load(git(root, "show", f"{rev}:{rel}"))
            for event in data["events"]:
                markers[event.get("note") or event["changes"].get("title", [None, None])[1]] += 1
    return markers


def assert_sound(root: Path) -> None:
    assert git(root, "status", "--porcelain") == ""
    # Objects a killed action wrote before its commit are dangling: harmless (git gc
    # prunes them), so only real damage counts.
    assert git(root, "fsck", "--no-progress", "--no-dangling").strip() == ""
    checked = cmtool(root, "validate")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_kill_minus_9_during_actions_loses_nothing(ws):
    rng = random.Random(SEED)
    case_id = cmtool(ws, "file", "--title", "Kettle leaks").stdout.strip()
    began = time.monotonic()
    timed = cmtool(ws, "note", case_id, "timing run")
    duration = time.monotonic() - began
    assert timed.returncode == 0
    succeeded, killed, stats = ["timing run"], [], Counter()
    deadline = time.monotonic() + SECONDS
    tries = 0
    while tries < KILLS and time.monotonic() < deadline:
        tries += 1
        marker = f"kill-{tries}"
        args = (
            ["file", "--title", marker]
            if tries % 3 == 0
            else ["note", case_id, marker, *(["--internal"] if tries % 2 else [])]
        )
        proc = start(ws, *args)
        # Half the kills anywhere, half late: start-up takes most of an action's time.
        low = 0.0 if tries % 4 < 2 else duration * 0.6
        if kill_at_random(proc, rng.uniform(low, duration * 1.2), whole_group=tries % 2 == 0):
            killed.append(marker)
        elif proc.returncode == 0:
            succeeded.append(marker)
        heal(ws, stats)
        after = cmtool(ws, "note", case_id, f"after {marker}")
        assert after.returncode == 0, after.stderr
        succeeded.append(f"after {marker}")
    markers = committed_markers(ws)
    assert [m for m in succeeded if markers[m] != 1] == []  # reported success: in history once
    assert [m for m in killed if markers[m] > 1] == []  # a killed action: once or not at all
    assert_sound(ws)
    stats["kills"] = len(killed)
    stats["killed_but_committed"] = sum(1 for m in killed if markers[m] == 1)
    print(f"\ncrash test (seed {SEED}): {tries} tries, {dict(stats)}, action took {duration:.2f}s")


def test_kill_minus_9_during_sync_loses_nothing(tmp_path, cli):
    rng = random.Random(SEED)
    a, remote, b = tmp_path / "a", tmp_path / "remote.git", tmp_path / "b"
    assert cli("init", str(a)).code == 0
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(a, "remote", "add", "origin", str(remote))
    case_id = cmtool(a, "file", "--title", "Kettle leaks").stdout.strip()
    assert cmtool(a, "sync").returncode == 0
    git(tmp_path, "clone", "-q", str(remote), str(b))
    began = time.monotonic()
    assert cmtool(a, "sync").returncode == 0
    duration = time.monotonic() - began
    succeeded, stats = [], Counter()
    rounds = max(3, KILLS // 3)
    deadline = time.monotonic() + SECONDS
    for turn in range(rounds):
        if time.monotonic() > deadline:
            break
        for root, side in ((a, "a"), (b, "b")):  # both change the same case offline
            marker = f"sync-{turn}-{side}"
            now = LATER.format(turn, 1 if side == "a" else 2)
            assert cmtool(root, "note", case_id, marker, "--now", now).returncode == 0
            succeeded.append(marker)
        assert cmtool(b, "sync").returncode == 0
        proc = start(a, "sync")
        stats[
            "killed"
            if kill_at_random(proc, rng.uniform(0, duration * 2), whole_group=turn % 2 == 1)
            else "finished"
        ] += 1
        heal(a, stats)
        for root in (a, b, a):
            done = cmtool(root, "sync")
            assert done.returncode == 0, done.stderr
    for root in (a, b):
        markers = committed_markers(root)
        assert [m for m in succeeded if markers[m] != 1] == []
        assert_sound(root)
    assert committed_markers(remote, "main") == committed_markers(a)
    print(f"\nsync crash test (seed {SEED}): {dict(stats)}")
