"""What an interrupted command can leave in a workspace, found and put right.

Used by `cmtool doctor`, always under the workspace lock: any cmtool command
(and, through the inherited lock, any git process it started) has finished, so
what is found here is a leftover, not work in flight.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import time
from pathlib import Path

from cmtool.store import git as gitops
from cmtool.store.casefiles import iter_case_paths
from cmtool.store.safefile import describe_mode
from cmtool.store.workspace import GIT_SETTINGS, MERGE_ATTRIBUTE, Workspace, configure_git

GIT_LOCK_NAMES = ("index.lock", "HEAD.lock", "packed-refs.lock", "config.lock", "MERGE_HEAD.lock")
STALE_AFTER = 2.0  # seconds; a live git holds these locks for milliseconds
# Commands clear a git lock by themselves only when it is older than this: a person's
# `git commit` holds index.lock while its editor is open.
LEFT_BEHIND_AFTER = 600.0
ASIDE_DIR = ".cmtool/doctor"  # .cmtool/ is ignored by git


def journal_paths(journal: Path) -> list[str]:
    """The paths an interrupted action was writing (see store.transaction)."""
    try:
        return list(json.loads(journal.read_text(encoding="utf-8"))["paths"])
    except (OSError, ValueError, KeyError, TypeError):
        return []


def git_lock_files(root: Path) -> list[Path]:
    """Lock files a killed git process left (they block every later git write)."""
    git_dir = root / ".git"
    found = [git_dir / name for name in GIT_LOCK_NAMES if (git_dir / name).exists()]
    refs = git_dir / "refs"
    if refs.is_dir():
        found += sorted(refs.rglob("*.lock"))
    return found


def clear_leftovers(ws: Workspace) -> list[str]:
    """What a killed process left that would block every later action, cleared at
    the start of each action (under the workspace lock, so no cmtool is running):
    the half-done merge of a killed sync, and git locks older than
    LEFT_BEHIND_AFTER. Returns what was cleared, for the user to be told."""
    from cmtool.store import remote

    cleared = []
    if remote.interrupted_sync(ws.root):
        remote.clear_interrupted_sync(ws.root)
        cleared.append("the half-done merge of an interrupted sync")
    for path in git_lock_files(ws.root):
        try:
            if time.time() - path.stat().st_mtime > LEFT_BEHIND_AFTER:
                path.unlink()
                cleared.append(f"the stale git lock {path.relative_to(ws.root)}")
        except FileNotFoundError:
            continue
    return cleared


def remove_stale_locks(paths: list[Path]) -> list[Path]:
    """Remove the locks that are older than a live git would hold one."""
    removed = []
    for path in paths:
        try:
            age = time.time() - path.stat().st_mtime
            if age < STALE_AFTER:
                time.sleep(STALE_AFTER - age)
            path.unlink()
            removed.append(path)
        except FileNotFoundError:
            continue  # its git finished meanwhile: not stale after all
    return removed


def temp_files(ws: Workspace) -> list[Path]:
    """Half-written files of atomic writes (``.NAME.tmp-PID``) and of merges: git hands
    a merge driver ``.merge_file_*`` copies in the top folder and deletes them after."""
    found = sorted(ws.git_dir.glob(".cmtool-*.tmp-*")) + sorted(ws.root.glob(".merge_file_*"))
    if ws.cases_dir.is_dir():
        found += sorted(ws.cases_dir.rglob(".*.tmp-*"))
        found += sorted(ws.cases_dir.rglob("*.cmtool-merge"))
    return found


def staged_only(root: Path) -> list[str]:
    """Paths whose index entry differs from HEAD while the file on disk equals HEAD:
    the index missed a commit (a kill between update-ref and update-index, or a
    stale index.lock in the way)."""
    if gitops.head(root) is None:
        return []
    staged = _names(gitops.git(root, "diff", "--cached", "--name-only", "-z", "--no-renames"))
    missed = []
    for path in staged:
        committed, on_disk = gitops.blob_at(root, "HEAD", path), root / path
        if committed and on_disk.is_file() and gitops.blob_id(on_disk.read_bytes()) == committed:
            missed.append(path)
    return sorted(missed)


def reset_index(root: Path, paths: list[str]) -> None:
    gitops.git(root, "reset", "-q", "HEAD", "--", *paths)


def uncommitted_cases(root: Path) -> list[str]:
    """Case files on disk that are not what HEAD holds (modified, new or deleted)."""
    out = gitops.git(root, "status", "--porcelain", "-z", "--untracked-files=all", "--", "cases")
    paths = set()
    for record in out.split("\0"):
        path = record[3:]
        if len(record) > 3 and path.endswith(".yaml"):
            paths.add(path)
    return sorted(paths)


def move_aside(ws: Workspace, rel: str, stamp: str) -> Path | None:
    """Keep a copy of the uncommitted file under .cmtool/doctor/, then put back HEAD's."""
    source = ws.root / rel
    kept = None
    if source.exists():
        kept = ws.root / ASIDE_DIR / stamp / rel
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, kept)
    committed = gitops.blob_at(ws.root, "HEAD", rel)
    if committed is None:
        source.unlink(missing_ok=True)
        gitops.git(ws.root, "rm", "-q", "--cached", "--ignore-unmatch", "--", rel)
    else:
        gitops.git(ws.root, "checkout", "-q", "HEAD", "--", rel)
    return kept


def driver_missing(ws: Workspace) -> list[str]:
    """What is missing for git to merge case files with cmtool."""
    missing = []
    attributes = ws.root / ".gitattributes"
    text = attributes.read_text(encoding="utf-8") if attributes.exists() else ""
    if MERGE_ATTRIBUTE not in text.splitlines():
        missing.append(".gitattributes")
    for key, value in GIT_SETTINGS.items():
        if gitops.git(ws.root, "config", "--get", key, check=False).strip() != value:
            missing.append(f"git config {key}")
    return missing


def register_driver(ws: Workspace) -> str | None:
    """Set the git config; returns the new .gitattributes text if it needs the line."""
    configure_git(ws.root)
    attributes = ws.root / ".gitattributes"
    text = attributes.read_text(encoding="utf-8") if attributes.exists() else ""
    if MERGE_ATTRIBUTE in text.splitlines():
        return None
    if text and not text.endswith("\n"):
        text += "\n"
    return f"{text}# case files merge via cmtool (docs/team.md)\n{MERGE_ATTRIBUTE}\n"


def _names(out: str) -> list[str]:
    return [name for name in out.split("\0") if name]


def irregular_files(ws: Workspace) -> list[tuple[str, str]]:
    """``(path, what it is)`` for rules.yaml and every entry under ``cases/`` that is a
    symbolic link, or a folder or special file where a case file should be."""
    found = []
    for path in [ws.rules_path, *iter_case_paths(ws)]:
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            continue
        if not stat.S_ISREG(mode):
            found.append((str(path.relative_to(ws.root)), describe_mode(mode)))
    return found
