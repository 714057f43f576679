"""The commit an export's data is read at, and which case files changed since another.

An export that a warehouse appends to must say exactly which data it holds: the
commit (HEAD) and its generation, the number of commits in its history. A
commit's generation is greater than that of every commit before it, so "the
latest row of a case" is the one of the highest generation, whatever the clocks
of the clones that made the commits said.
"""

from __future__ import annotations

from dataclasses import dataclass

from cmtool.errors import DirtyWorkspace, NotFound, UsageError
from cmtool.store.git import git, head
from cmtool.store.gitread import is_ancestor, rev_parse
from cmtool.store.workspace import Workspace


@dataclass(frozen=True)
class DataCommit:
    sha: str
    generation: int  # commits in its history, itself included


@dataclass(frozen=True)
class Changes:
    changed: list[str]  # case files added or modified (paths)
    removed: list[str]  # case files deleted


def data_commit(ws: Workspace) -> DataCommit:
    """HEAD, refused while case files differ from it (the export would not be that commit)."""
    sha = head(ws.root)
    if sha is None:
        raise NotFound("the workspace has no commit yet: nothing to export")
    dirty = git(ws.root, "status", "--porcelain", "-z", "--untracked-files=all", "--", "cases")
    paths = [entry[3:] for entry in dirty.split("\0") if entry[3:].endswith(".yaml")]
    if paths:
        more = f" and {len(paths) - 1} more" if len(paths) > 1 else ""
        raise DirtyWorkspace(
            f"case files differ from the last commit ({paths[0]}{more}), so the export would hold no commit",
            hint="commit or restore them (git status), then export",
        )
    count = int(git(ws.root, "rev-list", "--count", sha).strip())
    return DataCommit(sha, count)


def resolve_commit(ws: Workspace, rev: str) -> str:
    sha = rev_parse(ws.root, rev)
    if sha is None:
        raise NotFound(f"no commit {rev!r} in this workspace")
    return sha


def changes_since(ws: Workspace, since: str, current: str) -> Changes:
    """Case files changed between ``since`` and ``current`` (its descendant)."""
    if not is_ancestor(ws.root, since, current):
        raise UsageError(
            f"{since[:12]} is not in the history of {current[:12]} (another branch, or history rewritten)",
            hint="make a full export (without --since) and replace what the warehouse holds",
        )
    out = git(
        ws.root, "diff-tree", "-r", "-z", "--no-renames", "--name-status", since, current, "--", "cases"
    )
    fields = out.split("\0")
    changed, removed = [], []
    for status, path in zip(fields[0::2], fields[1::2], strict=False):
        if not path.endswith(".yaml"):
            continue
        (removed if status == "D" else changed).append(path)
    return Changes(sorted(changed), sorted(removed))
