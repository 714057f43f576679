"""Commits written in-process (objects, split index) stay what git itself would write.

Checked against real git: the commit's bytes equal `git commit-tree`'s for the same
input, `git fsck --full --strict` passes after many actions, `git status` and
`git diff-files` see a clean tree (the index matches, stat data included), plain
git commands interleave (commit, gc, re-split, staged work), and a process killed
between writing the objects and moving HEAD leaves a repository that the next
action puts right.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cmtool.errors import GitError
from cmtool.store import git as gitops
from cmtool.store import refs, splitindex
from cmtool.store.nativegit import NativeRepo, Unsupported, fsync_loose_objects
from cmtool.store.workspace import Workspace
from tests.conftest import git


def sound(root: Path) -> None:
    """What a user would check: clean status, index = HEAD, no damage, 0 findings."""
    assert git(root, "status", "--porcelain") == ""
    for check in (["diff-files", "--quiet"], ["diff-index", "--cached", "--quiet", "HEAD"]):
        assert subprocess.run(["git", *check], cwd=root).returncode == 0, check
    assert git(root, "fsck", "--full", "--strict", "--no-progress", "--no-dangling").strip() == ""
    assert subprocess.run([sys.executable, "-m", "cmtool", "audit", "verify"], cwd=root).returncode == 0


def case_id(result) -> str:
    assert result.code == 0, result.err
    return result.out.strip().split()[0]


# Many command lines in one process: the same code path as one `cmtool` call each,
# without paying interpreter start-up for every one on a busy machine.
BATCH = """
import json, sys
from cmtool.cli.app import run
for line in json.loads(sys.argv[1]):
    print("exit", run(line), flush=True)
"""


def commands(root: Path, *lines: list[str]) -> list[str]:
    """Run the command lines in order; returns what each printed."""
    done = subprocess.run(
        [sys.executable, "-c", BATCH, json.dumps(lines)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    printed, current = [], []
    for line in done.stdout.splitlines():
        if line.startswith("exit "):
            assert line == "exit 0", (lines[len(printed)], done.stderr)
            printed.append("\n".join(current))
            current = []
        else:
            current.append(line)
    return printed


@pytest.mark.parametrize(
    ("name", "email", "date"),
    [
        ("omar", "omar@example.com", "2025-11-21T17:30:00+08:00"),
        ("Wang Fang 王芳", "wang.fang@例子.cn", "2024-02-29T23:59:59-05:00"),
        ("Zoë O Brien", "zoe@example.ie", "2025-03-30T01:30:00+00:00"),
        ("kiri", "kiri@example.nz", "2025-01-01T00:00:00+13:45"),
    ],
)
def test_the_commit_is_byte_for_byte_what_git_commit_tree_writes(ws, name, email, date):
    native = NativeRepo.open(ws, gitops.repo_config(ws))
    assert native is not None
    parent, tree = native.head()
    message = "note C-251121-AAAAAAA: called back\n\nCmtool-Action: note\nCmtool-Actor: omar\n"
    mine = native.commit_object(
        tree, parent, message, (name, email), ("Test Runner", "runner@example.com"), date
    )
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_NAME": "Test Runner",
        "GIT_COMMITTER_EMAIL": "runner@example.com",
        "GIT_COMMITTER_DATE": date,
    }
    theirs = subprocess.run(
        ["git", "commit-tree", tree, "-p", parent],
        cwd=ws,
        input=message,
        env=env,
        capture_output=True,
        text=True,
    )
    assert mine == theirs.stdout.strip()


def test_identities_git_would_clean_up_are_left_to_git(ws, cli):
    native = NativeRepo.open(ws, gitops.repo_config(ws))
    parent, tree = native.head()
    for odd in ("Jr.", " padded", "a <b>"):
        with pytest.raises(Unsupported):
            native.commit_object(
                tree,
                parent,
                "m\n",
                (odd, "x@example.com"),
                ("a", "b@example.com"),
                "2025-11-21T17:30:00+08:00",
            )
    git(ws, "config", "user.name", "Test Runner.")  # the committer: git drops the end's "."
    filed = cli("file", "--title", "Kettle leaks", "--actor", "Test Runner", cwd=ws)
    assert filed.code == 0, filed.err
    expected = git(ws, "var", "GIT_COMMITTER_IDENT").rsplit(" ", 2)[0]
    committer = git(ws, "cat-file", "commit", "HEAD").split("\ncommitter ", 1)[1].split("\n")[0]
    assert committer.rsplit(" ", 2)[0] == expected
    sound(ws)


def test_signing_and_other_encodings_go_through_git(ws):
    assert NativeRepo.open(ws, {**gitops.repo_config(ws), "commit.gpgsign": "true"}) is None
    assert NativeRepo.open(ws, {**gitops.repo_config(ws), "i18n.commitencoding": "GBK"}) is None
    assert NativeRepo.open(ws, {**gitops.repo_config(ws), "extensions.objectformat": "sha256"}) is None
    assert NativeRepo.open(ws, gitops.repo_config(ws)) is not None


def test_loose_objects_are_fsynced_when_git_would_fsync_them():
    assert not fsync_loose_objects({})  # git's default syncs packs, not loose objects
    assert fsync_loose_objects({"core.fsyncobjectfiles": "true"})
    assert fsync_loose_objects({"core.fsync": "committed"})
    assert fsync_loose_objects({"core.fsync": "reference,loose-object"})
    assert not fsync_loose_objects({"core.fsync": "all,-loose-object"})


def test_many_actions_then_git_fsck_and_a_clean_status(ws):
    filings = commands(
        ws, *[["file", "--title", f"Kettle leaks {n}", "--channel", "phone"] for n in range(4)]
    )
    ids = [out.split()[0] for out in filings]
    lines = []
    for number, ref in enumerate(ids):
        lines += [["note", ref, f"called back {number}"], ["assign", ref, "--to", "alice"]]
    commands(ws, *lines, ["resolve", ids[0], "--resolution", "replaced"], ["close", ids[0]])
    sound(ws)
    assert len(git(ws, "rev-list", "HEAD").split()) >= 15
    # The split part holds only what changed since the shared index was written.
    shared = next((ws / ".git").glob("sharedindex.*"))
    assert (
        ws / ".git" / "index"
    ).stat().st_size < 8192 < shared.stat().st_size or shared.stat().st_size < 8192


def test_plain_git_interleaves_with_actions(ws):
    first = commands(ws, ["file", "--title", "Kettle leaks"])[0].split()[0]
    (ws / "notes.txt").write_text("a user's own file\n")
    git(ws, "add", "notes.txt")
    git(ws, "commit", "-qm", "a user's commit")
    git(ws, "gc", "-q", "--prune=now")  # every object packed: trees are read back from the pack
    assert not list((ws / ".git" / "objects").glob("??/*"))
    commands(ws, ["note", first, "after a git commit and gc"], ["assign", first, "--to", "alice"])
    git(ws, "update-index", "--split-index")  # git writes a new shared index
    second = commands(ws, ["file", "--title", "Toaster sparks"])[0].split()[0]
    (ws / "notes.txt").write_text("staged, not committed\n")
    git(ws, "add", "notes.txt")
    commands(ws, ["note", second, "with work staged"])
    assert git(ws, "status", "--porcelain") == "M  notes.txt\n"  # still staged, not in the commit
    assert "notes.txt" not in git(ws, "show", "--name-only", "--format=", "HEAD")
    git(ws, "commit", "-qm", "the staged work")
    commands(ws, ["note", first, "last"])
    sound(ws)


def test_a_large_split_part_is_folded_by_git(ws, monkeypatch):
    ids = [
        out.split()[0] for out in commands(ws, ["file", "--title", "Kettle"], ["file", "--title", "Toaster"])
    ]
    monkeypatch.setattr(splitindex, "FOLD_AT", 1)
    before = {p.name for p in (ws / ".git").glob("sharedindex.*")}
    ws_path = ws.resolve()
    rel = [Workspace(ws_path).case_relpath(i) for i in ids]
    for path in rel:
        (ws_path / path).write_text((ws_path / path).read_text() + "# hand edit\n")
    blobs = gitops.hash_files(ws_path, rel)
    gitops.sync_index(ws_path, blobs, just_written=True)
    assert {p.name for p in (ws / ".git").glob("sharedindex.*")} != before
    assert git(ws, "diff-files", "--name-only") == ""
    assert sorted(git(ws, "diff-index", "--cached", "--name-only", "HEAD").split()) == sorted(rel)


KILL_BEFORE_HEAD_MOVES = """
import os, sys
from cmtool.store import git as gitops, refs
def killed(*args, **kwargs):
    os._exit(9)  # every object written, HEAD not moved yet
refs.update_head = killed
real = gitops.git
def git(root, *args, **kwargs):
    return killed() if args[0] == "update-ref" else real(root, *args, **kwargs)
gitops.git = git
from cmtool.cli.app import run
sys.exit(run(sys.argv[1:]))
"""


def test_killed_between_objects_and_head_the_action_is_retryable(ws, cli):
    ref = case_id(cli("file", "--title", "Kettle leaks", cwd=ws))
    head = git(ws, "rev-parse", "HEAD")
    killed = subprocess.run(
        [sys.executable, "-c", KILL_BEFORE_HEAD_MOVES, "note", ref, "never committed"],
        cwd=ws,
        capture_output=True,
    )
    assert killed.returncode == 9
    assert git(ws, "rev-parse", "HEAD") == head
    assert (ws / ".git" / "cmtool-journal.json").exists()
    assert git(ws, "fsck", "--full", "--strict", "--no-progress", "--no-dangling").strip() == ""
    retried = cli("note", ref, "called back", cwd=ws)
    assert retried.code == 0, retried.err
    shown = git(ws, "show", "HEAD", "--", ".")
    assert "called back" in shown and "never committed" not in shown
    sound(ws)


def test_head_moves_only_from_the_commit_it_was_built_on(ws):
    head = git(ws, "rev-parse", "HEAD").strip()
    tree = git(ws, "rev-parse", "HEAD^{tree}").strip()
    stale = git(ws, "commit-tree", tree, "-p", head, "-m", "someone else").strip()
    config = gitops.repo_config(ws)
    with pytest.raises(GitError, match="expected"):
        refs.update_head(ws, config, stale, "1" * 40, "cmtool: raced")
    refs.update_head(ws, config, stale, head, "cmtool: moved")
    assert git(ws, "rev-parse", "HEAD").strip() == stale
    assert git(ws, "reflog", "-1", "--format=%gs").strip() == "cmtool: moved"
    assert git(ws, "fsck", "--no-progress").strip() == ""
