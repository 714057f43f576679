"""`cmtool sync`, `install` and the merge driver with real clones and a bare remote."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from tests.conftest import git

LATER = "2025-11-21T18:{:02d}:00+08:00"


@pytest.fixture
def team(tmp_path, cli):
    """Clone ``a`` (made by init), a bare ``remote.git``, and clone ``b`` of it."""
    a, remote, b = tmp_path / "a", tmp_path / "remote.git", tmp_path / "b"
    assert cli("init", str(a)).code == 0
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(a, "remote", "add", "origin", str(remote))
    first = cli("sync", cwd=a)
    assert first.code == 0, first.err
    git(tmp_path, "clone", "-q", str(remote), str(b))
    assert cli("install", cwd=b).code == 0
    return a, remote, b


def file_case(cli, root: Path, title: str = "Kettle leaks") -> str:
    result = cli("file", "--title", title, "--channel", "phone", cwd=root)
    assert result.code == 0, result.err
    return result.out.strip()


def events_of(root: Path, case_id: str, rev: str | None = None) -> list[dict]:
    import yaml

    rel = f"cases/2025/11/{case_id}.yaml"
    text = git(root, "show", f"{rev}:{rel}") if rev else (root / rel).read_text()
    return yaml.safe_load(text)["events"]


def notes(root: Path, case_id: str) -> list[str]:
    return [e["note"] for e in events_of(root, case_id) if e["action"] == "note"]


def assert_clean(cli, root: Path) -> None:
    assert git(root, "status", "--porcelain") == ""
    checked = cli("validate", cwd=root)
    assert checked.code == 0, checked.out + checked.err


def test_init_commits_the_merge_attributes_and_registers_the_driver(ws):
    assert "cases/**/*.yaml merge=cmtool" in (ws / ".gitattributes").read_text()
    assert ".gitattributes" in git(ws, "ls-files")
    assert git(ws, "config", "merge.cmtool.driver").strip() == "cmtool merge-driver %O %A %B %P"
    attr = git(ws, "check-attr", "merge", "--", "cases/2025/11/C-251121-AB12345.yaml")
    assert attr.strip().endswith("merge: cmtool")


def test_both_clones_change_one_case_offline_and_sync(team, cli):
    a, remote, b = team
    case_id = file_case(cli, a)
    assert cli("sync", cwd=a).code == 0
    assert cli("sync", cwd=b).code == 0
    # Offline: b assigns and raises the priority, a adds a note and raises it differently.
    assert cli("assign", case_id, "--to", "bo", "--now", LATER.format(0), cwd=b).code == 0
    assert cli("edit", case_id, "--priority", "high", "--now", LATER.format(20), cwd=b).code == 0
    assert cli("note", case_id, "Called the customer", "--now", LATER.format(5), cwd=a).code == 0
    raised = cli("edit", case_id, "--priority", "critical", "--now", LATER.format(10), cwd=a)
    assert raised.code == 0

    pushed = cli("sync", cwd=a)
    assert pushed.code == 0, pushed.err
    assert "out to origin/main: 2 commits" in pushed.out
    merged = cli("sync", "--json", cwd=b)
    assert merged.code == 0, merged.err
    report = json.loads(merged.out)
    assert report["merged_cases"] == [case_id]
    assert [c["summary"].split(":")[0] for c in report["incoming"]] == [f"note {case_id}", f"edit {case_id}"]
    assert len(report["contests"]) == 1 and "priority: kept high" in report["contests"][0]
    assert cli("sync", cwd=a).code == 0

    expected = ["assign", "note", "edit", "edit", "merge_contest"]  # after filing (and routing)
    for where in (a, b):
        assert [e["action"] for e in events_of(where, case_id)][-5:] == expected
        assert_clean(cli, where)
    assert events_of(remote, case_id, "main") == events_of(a, case_id)
    contest = events_of(a, case_id)[-1]["contested"]
    assert contest == [
        {
            "field": "priority",
            "kept": "high",
            "kept_by": "Test Runner",
            "kept_at": LATER.format(20),
            "overridden": "critical",
            "overridden_by": "Test Runner",
            "overridden_at": LATER.format(10),
        }
    ]
    shown = cli("show", case_id, "--json", cwd=a)
    assert json.loads(shown.out)["status"] == "in_progress"  # the note follows the assignment
    log = git(b, "log", "-1", "--format=%B")
    assert f"Cmtool-Case: {case_id}" in log and "Cmtool-Action: sync" in log
    assert git(b, "fsck", "--no-progress").strip() == ""


def test_cases_filed_on_both_sides_never_collide(team, cli):
    a, _remote, b = team
    mine = [file_case(cli, a, f"from a {n}") for n in range(3)]
    theirs = [file_case(cli, b, f"from b {n}") for n in range(3)]
    assert cli("sync", cwd=a).code == 0
    result = cli("sync", cwd=b)
    assert result.code == 0, result.err
    assert "in from origin/main: 3 commits" in result.out
    assert cli("sync", cwd=a).code == 0
    for root in (a, b):
        assert sorted(p.stem for p in (root / "cases").rglob("C-*.yaml")) == sorted(mine + theirs)
        assert_clean(cli, root)


def test_plain_git_pull_uses_the_driver(team, cli, tmp_path):
    a, _remote, b = team
    case_id = file_case(cli, a)
    assert cli("sync", cwd=a).code == 0
    git(b, "pull", "-q")
    assert cli("note", case_id, "from b", "--now", LATER.format(1), cwd=b).code == 0
    assert cli("note", case_id, "from a", "--now", LATER.format(2), cwd=a).code == 0
    assert cli("sync", cwd=a).code == 0
    bin_dir = tmp_path / "bin"  # `cmtool` on PATH, as a user's shell has it
    bin_dir.mkdir()
    wrapper = bin_dir / "cmtool"
    wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} -m cmtool "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}")
    import subprocess

    done = subprocess.run(
        ["git", "pull", "--no-rebase", "--no-edit"], cwd=b, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert notes(b, case_id) == ["from b", "from a"]
    assert_clean(cli, b)


def test_retries_when_the_remote_moves_during_the_sync(team, cli, tmp_path):
    a, _remote, b = team
    case_id = file_case(cli, a)
    assert cli("sync", cwd=a).code == 0
    assert cli("sync", cwd=b).code == 0
    assert cli("note", case_id, "from a", "--now", LATER.format(1), cwd=a).code == 0
    # Just before a pushes, b pushes a change of its own: a's push is rejected once.
    flag = tmp_path / "raced"
    hook = a / ".git" / "hooks" / "pre-push"
    hook.write_text(
        "#!/bin/sh\nunset GIT_DIR GIT_INDEX_FILE GIT_WORK_TREE\n"
        f"[ -e {flag} ] && exit 0\ntouch {flag}\ncd {b}\n"
        f"{sys.executable} -m cmtool note {case_id} 'from b' --now {LATER.format(2)} >/dev/null\n"
        "git push -q origin main\n"
    )
    hook.chmod(0o755)
    result = cli("sync", "--json", cwd=a)
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["attempts"] == 2
    assert [c["summary"] for c in report["incoming"]] == [f"note {case_id}"]  # no note text in commits
    assert cli("sync", cwd=b).code == 0
    for root in (a, b):
        assert notes(root, case_id) == ["from a", "from b"]
        assert_clean(cli, root)


def test_a_conflict_outside_case_files_stops_cleanly(team, cli):
    a, _remote, b = team
    for root, word in ((a, "alpha"), (b, "beta")):
        (root / "rules.yaml").write_text((root / "rules.yaml").read_text() + f"# {word}\n")
        git(root, "commit", "-qam", f"rules {word}")
    assert cli("sync", cwd=a).code == 0
    head = git(b, "rev-parse", "HEAD")
    result = cli("sync", cwd=b)
    assert result.code == 6
    assert "rules.yaml" in result.err and "merge was undone" in result.err
    assert "Traceback" not in result.err
    assert git(b, "rev-parse", "HEAD") == head
    assert git(b, "status", "--porcelain") == ""
    assert not (b / ".git" / "MERGE_HEAD").exists()
    assert cli("file", "--title", "still works", cwd=b).code == 0


def test_refuses_with_uncommitted_changes_or_no_remote(ws, team, cli):
    result = cli("sync", cwd=ws)
    assert result.code == 3 and "no git remote" in result.err
    a, _remote, _b = team
    case_id = file_case(cli, a)
    path = next((a / "cases").rglob(f"{case_id}.yaml"))
    path.write_text(path.read_text().replace("Kettle leaks", "Kettle"))
    result = cli("sync", cwd=a)
    assert result.code == 6 and case_id in result.err and "doctor" in result.err


def test_unreachable_remote_exits_6_and_changes_nothing(team, cli, tmp_path):
    a, remote, _b = team
    file_case(cli, a)
    remote.rename(tmp_path / "moved.git")
    head = git(a, "rev-parse", "HEAD")
    result = cli("sync", cwd=a)
    assert result.code == 6 and "could not fetch from origin" in result.err
    assert git(a, "rev-parse", "HEAD") == head and git(a, "status", "--porcelain") == ""


def test_install_in_an_existing_clone_commits_the_attribute_once(ws, cli):
    (ws / ".gitattributes").unlink()
    git(ws, "rm", "-q", "--cached", ".gitattributes")
    git(ws, "commit", "-qm", "an old workspace")
    git(ws, "config", "--unset", "merge.cmtool.driver")
    doctor = cli("doctor", cwd=ws)
    assert doctor.code == 1 and "MERGE_DRIVER_MISSING" in doctor.out
    result = cli("install", cwd=ws)
    assert result.code == 0 and ".gitattributes" in result.out
    assert "Cmtool-Action: install" in git(ws, "log", "-1", "--format=%B")
    assert git(ws, "status", "--porcelain") == ""
    again = cli("install", cwd=ws)
    assert again.out.strip() == "already registered"
    assert cli("doctor", cwd=ws).code == 0


def test_a_case_edited_by_hand_on_one_side_needs_a_person(team, cli):
    a, _remote, b = team
    case_id = file_case(cli, a)
    assert cli("sync", cwd=a).code == 0
    assert cli("sync", cwd=b).code == 0
    assert cli("note", case_id, "from a", "--now", LATER.format(1), cwd=a).code == 0
    assert cli("sync", cwd=a).code == 0
    path = next((b / "cases").rglob(f"{case_id}.yaml"))  # b edits the state, bypassing events
    path.write_text(path.read_text().replace("title: Kettle leaks", "title: Kettle"))
    git(b, "commit", "-qam", "hand edit")
    head = git(b, "rev-parse", "HEAD")
    result = cli("sync", cwd=b)
    assert result.code == 6, result.err
    assert f"{case_id}.yaml" in result.err and "Traceback" not in result.err
    assert git(b, "rev-parse", "HEAD") == head and git(b, "status", "--porcelain") == ""
    import subprocess

    pulled = subprocess.run(
        [
            "git",
            "-c",
            f"merge.cmtool.driver={sys.executable} -m cmtool merge-driver %O %A %B %P",
            "pull",
            "--no-rebase",
            "--no-edit",
        ],
        cwd=b,
        capture_output=True,
        text=True,
    )
    assert pulled.returncode != 0 and "CASE_STATE_MISMATCH" in pulled.stderr
    assert "<<<<<<<" in path.read_text()  # git's markers, for the person who fixes it
