"""Shared fixtures: real git workspaces in temporary folders, a fixed clock and identity."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

FIXED_NOW = "2025-11-21T17:30:00+08:00"
IDENTITY = {
    "GIT_AUTHOR_NAME": "Test Runner",
    "GIT_AUTHOR_EMAIL": "runner@example.com",
    "GIT_COMMITTER_NAME": "Test Runner",
    "GIT_COMMITTER_EMAIL": "runner@example.com",
}


@pytest.fixture(autouse=True)
def fixed_environment(monkeypatch, tmp_path_factory):
    """Every test: a fixed clock, a known git identity, no user config leaking in."""
    home = tmp_path_factory.mktemp("home")
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test Runner\n\temail = runner@example.com\n[init]\n\tdefaultBranch = main\n"
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("CMTOOL_NOW", FIXED_NOW)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("CMTOOL_WORKSPACE", raising=False)
    monkeypatch.delenv("CMTOOL_ACTOR", raising=False)
    monkeypatch.delenv("CMTOOL_KEY_STORE", raising=False)
    monkeypatch.delenv("CMTOOL_IDENTITY", raising=False)  # a member's identity: under HOME
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    for key in IDENTITY:
        monkeypatch.delenv(key, raising=False)


def imported_from_outside(prefix: str) -> list[str]:
    """Modules loaded from an installed-packages folder that is not the venv's own:
    a sign the tests lean on the base interpreter's packages."""
    outside = []
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None) or ""
        if ("site-packages" in origin or "dist-packages" in origin) and not origin.startswith(prefix):
            outside.append(f"{name} ({origin})")
    return sorted(outside)


def pytest_sessionfinish(session, exitstatus):
    """In CI the suite runs in a venv of its own; anything imported from outside it
    would pass here and fail on a machine whose Python has only pip."""
    if os.environ.get("CI") != "true":
        return
    prefix = str(Path(sys.prefix).resolve())
    problems = []
    if sys.prefix == sys.base_prefix:
        problems.append(f"not running in a virtualenv ({sys.executable})")
    problems += imported_from_outside(prefix)
    if problems:
        sys.stderr.write("imported from outside the test venv:\n  " + "\n  ".join(problems) + "\n")
        session.exitstatus = 1


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli():
    """Run the real ``cmtool`` entry point in a subprocess: ``cli(*args, cwd=...)``."""

    def run(*args: str, cwd: Path | None = None, env: dict | None = None, input: str | None = None) -> Result:
        full_env = dict(os.environ)
        full_env.update(env or {})
        done = subprocess.run(
            [sys.executable, "-m", "cmtool", *args],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
            input=input,
            timeout=120,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    return run


SAMPLE_RULES = Path(__file__).resolve().parent.parent / "rules.yaml"


@pytest.fixture
def ws(tmp_path, cli) -> Path:
    """A fresh workspace made by ``cmtool init``, with the sample's rules.yaml (and so the
    sample's people, teams and roles: alice, bob, chen.jie, dana, li.na, wang.fang, omar).
    The tests' git identity, Test Runner, is listed as a manager, so commands run without
    --actor are allowed. A new team's workspace (``cmtool init`` alone) has no people:
    see test_people.py."""
    root = tmp_path / "ws"
    result = cli("init", str(root), "--rules", str(SAMPLE_RULES), "--person", "Test Runner:manager")
    assert result.code == 0, result.err
    return root


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


def put_rules_sections(rules: Path, snippet: str) -> None:
    """Put the top-level sections of ``snippet`` into ``rules`` (a rules.yaml),
    replacing the ones already there: a key may appear once in a YAML mapping."""
    import re

    text = rules.read_text(encoding="utf-8")
    for key in re.findall(r"^([A-Za-z_]\w*):", snippet, re.M):
        text = re.sub(rf"^{key}:.*\n(?:(?:[ \t].*)?\n)*", "", text, flags=re.M)
    rules.write_text(text.rstrip("\n") + "\n" + snippet.lstrip("\n"), encoding="utf-8")
