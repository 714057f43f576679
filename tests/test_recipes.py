"""The recipes of docs/team.md and docs/sla.md run as written: the commands are
read from the docs (blocks marked `<!-- recipe: NAME -->`), so the docs and this
test cannot drift. Only the settings a reader is told to choose (lines
`NAME=value`: the shared folder, the workspace, the log folder, PATH) get this
test's locations; every other line runs verbatim, on the real clock."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import git

DOCS = Path(__file__).resolve().parent.parent / "docs"
SETTING = re.compile(r"^([A-Z_]+)=(.*)$")
BIN = str(Path(sys.executable).parent)  # where cmtool is installed with this Python


def recipe(doc: str, name: str) -> str:
    text = (DOCS / doc).read_text(encoding="utf-8")
    found = re.search(rf"<!-- recipe: {re.escape(name)} -->\n```[a-z]*\n(.*?)```", text, re.DOTALL)
    assert found, f"docs/{doc} has no recipe {name}"
    return found.group(1)


def with_settings(block: str, values: dict[str, str]) -> str:
    """The block with each `NAME=value` line set to this test's value."""
    lines = []
    for line in block.splitlines():
        match = SETTING.match(line)
        if match:
            assert match.group(1) in values, f"the test does not know the setting {match.group(1)}"
            line = f"{match.group(1)}={shlex.quote(values[match.group(1)])}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def machine(home: Path) -> dict[str, str]:
    """The environment of a user on a machine of their own (no fixed clock)."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(os.environ["HOME"]) / ".gitconfig", home / ".gitconfig")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CMTOOL_")}
    return {**env, "HOME": str(home), "PATH": f"{BIN}:{os.environ['PATH']}"}


def sh(script: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{script}\n{done.stdout}\n{done.stderr}"
    return done


def cmtool(env: dict[str, str], *args: str, cwd: Path) -> str:
    return sh(shlex.join(["cmtool", *args]), env, cwd).stdout


@pytest.fixture
def team(tmp_path):
    """Machine A with a workspace and one case; the shared folder; machine B."""
    share = tmp_path / "share"
    share.mkdir()
    a, b = machine(tmp_path / "a"), machine(tmp_path / "b")
    cmtool(a, "init", str(Path(a["HOME"]) / "complaints"), cwd=tmp_path)
    case_id = cmtool(
        a, "file", "--title", "Kettle leaks", "--actor", "alice", cwd=Path(a["HOME"]) / "complaints"
    )
    return share, a, b, case_id.strip()


def test_shared_remote_recipe_gives_a_clone_that_works(team, tmp_path):
    share, a, b, case_id = team
    sh(with_settings(recipe("team.md", "shared-remote-first"), {"SHARE": str(share)}), a, tmp_path)
    done = sh(with_settings(recipe("team.md", "shared-remote-clone"), {"SHARE": str(share)}), b, tmp_path)
    assert case_id in done.stdout  # the recipe's `cmtool list` on machine B
    clone = Path(b["HOME"]) / "complaints"
    assert git(clone, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert git(clone, "config", "merge.cmtool.driver").strip()


def test_sync_points_an_unborn_bare_head_at_the_branch(team, tmp_path):
    """A shared repository made without `-b main` on a machine whose git defaults
    to master: the first sync points its HEAD at main, so clones check out."""
    share, a, b, case_id = team
    bare = share / "complaints.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "master", str(bare)], check=True)
    ws = Path(a["HOME"]) / "complaints"
    sh(f"git remote add origin {shlex.quote(str(bare))} && cmtool sync", a, ws)
    assert git(bare, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    sh(f"git clone -q {shlex.quote(str(bare))} ~/complaints", b, tmp_path)
    assert case_id in cmtool(b, "list", cwd=Path(b["HOME"]) / "complaints")
    # a HEAD someone chose (an existing branch) is left alone
    git(bare, "branch", "release", "main")
    git(bare, "symbolic-ref", "HEAD", "refs/heads/release")
    cmtool(a, "note", case_id, "called back", "--actor", "alice", cwd=ws)
    cmtool(a, "sync", cwd=ws)
    assert git(bare, "symbolic-ref", "HEAD").strip() == "refs/heads/release"


@pytest.fixture
def server(team, tmp_path):
    """The shared remote, and the cron job's own clone of it, set up as written."""
    share, a, b, case_id = team
    sh(with_settings(recipe("team.md", "shared-remote-first"), {"SHARE": str(share)}), a, tmp_path)
    clone = tmp_path / "srv" / "complaints"
    sh(f"git clone -q {shlex.quote(str(share / 'complaints.git'))} {shlex.quote(str(clone))}", b, tmp_path)
    cmtool(b, "install", cwd=clone)
    log = tmp_path / "log" / "cmtool"
    settings = {"CMTOOL_WORKSPACE": str(clone), "LOG": str(log), "PATH": b["PATH"]}
    sh(with_settings(recipe("team.md", "cron-setup"), settings), b, tmp_path)
    # a critical complaint filed three hours ago: its 2 h first response is overdue
    ws = Path(a["HOME"]) / "complaints"
    then = (datetime.now().astimezone() - timedelta(hours=3)).isoformat(timespec="seconds")
    critical = cmtool(a, "file", "--title", "Charger caught fire", "--actor", "alice", "--now", then, cwd=ws)
    cmtool(a, "sync", cwd=ws)
    return clone, log, settings, critical.strip(), share / "complaints.git", b


def run_cron(block: str, settings: dict[str, str], home: str) -> None:
    """Each crontab line as cron runs it: the variables, then the command via /bin/sh."""
    env = {"HOME": home, "SHELL": "/bin/sh", **{k: os.environ[k] for k in ("PYTHONPATH",) if k in os.environ}}
    for line in block.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = SETTING.match(line)
        if match:
            env[match.group(1)] = settings[match.group(1)]
            continue
        command = line.split(None, 5)[5]  # after minute hour day month weekday
        done = subprocess.run(
            ["/bin/sh", "-c", command], env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode in (0, 1), done.stderr


def read_log(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def check_swept(clone: Path, log: Path, critical: str, bare: Path) -> None:
    records = read_log(log / "sla.jsonl")
    summaries = [r for r in records if r["type"] == "summary"]
    assert len(summaries) == 2 and all(s["changed_only"] for s in summaries)
    clocks = [r for r in records if r["type"] == "clock"]
    assert [(c["case_id"], c["clock"], c["state"]) for c in clocks] == [
        (critical, "first_response", "breached")
    ]
    assert records.index(clocks[0]) < records.index(summaries[0])  # news only in the first run
    assert summaries[0]["applied"] >= 1 and summaries[1]["applied"] == 0
    assert all(r["type"] == "summary" or r.get("time") for r in records)
    # the sweep's commit: by the system actor, pushed, and the clone is clean
    sweep = git(bare, "log", "-1", "--format=%an|%cn|%(trailers:key=Cmtool-Action,valueonly)", "main")
    assert sweep.split("|")[:2] == ["sla-bot", "sla-bot"] and "sla_sweep" in sweep
    assert git(clone, "status", "--porcelain") == ""
    assert len(read_log(log / "sync.jsonl")) == 4
    assert not (clone / "sla.jsonl").exists() and log not in clone.parents


def test_cron_recipe_runs_as_written(server):
    clone, log, settings, critical, bare, b = server
    block = recipe("team.md", "cron")
    run_cron(block, settings, b["HOME"])
    run_cron(block, settings, b["HOME"])
    check_swept(clone, log, critical, bare)
    verified = subprocess.run(
        ["cmtool", "audit", "verify"], cwd=clone, env=b, capture_output=True, text=True, timeout=300
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr


def unit_commands(unit: str) -> tuple[dict[str, str], list[list[str]], set[int]]:
    """Environment=, the Exec lines in the order systemd runs them (``$$`` is a
    literal ``$``), and the exit codes the unit counts as success."""
    env, commands, success = {}, {"ExecStartPre": [], "ExecStart": [], "ExecStartPost": []}, {0}
    for line in unit.splitlines():
        key, _, value = line.partition("=")
        if key == "Environment":
            name, _, setting = value.partition("=")
            env[name] = setting
        elif key in commands:
            commands[key].append(shlex.split(value.replace("$$", "$")))
        elif key == "SuccessExitStatus":
            success |= {int(code) for code in value.split()}
    return env, [c for key in commands for c in commands[key]], success


def test_systemd_units_run_as_written(server, tmp_path):
    clone, log, settings, critical, bare, b = server
    service, timer = recipe("sla.md", "systemd-service"), recipe("sla.md", "systemd-timer")
    if shutil.which("systemd-analyze"):
        units = tmp_path / "units"
        units.mkdir()
        (units / "cmtool-sla.service").write_text(service)
        (units / "cmtool-sla.timer").write_text(timer)
        checked = subprocess.run(
            ["systemd-analyze", "verify", "cmtool-sla.service", "cmtool-sla.timer"],
            cwd=units,
            capture_output=True,
            text=True,
        )
        assert checked.returncode == 0 and not checked.stderr.strip(), checked.stderr
    names, commands, success = unit_commands(service)
    assert set(names) == set(settings)
    env = {"HOME": b["HOME"], **{k: os.environ[k] for k in ("PYTHONPATH",) if k in os.environ}, **settings}
    for _run in range(2):
        for argv in commands:
            done = subprocess.run(argv, env=env, cwd="/", capture_output=True, text=True, timeout=300)
            assert done.returncode in success, done.stderr
    check_swept(clone, log, critical, bare)
