"""Git porcelain for `cmtool sync`: fetch, merge with the case-file driver, push.

Unlike the plumbing in ``store.git`` (one action, one tree, one commit), a
sync needs git's own merge machinery: it runs the merge driver on case files
changed on both sides and keeps the index and working tree in step.

A sync writes a marker (``.git/cmtool-sync.json``) while its merge runs, so a
merge left behind by a killed sync can be told from one a person is doing by
hand: the first may be aborted safely, the second never.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cmtool.errors import GitError, NotFound, UsageError
from cmtool.store import git as gitops
from cmtool.store.gitenv import git_environ

SYNC_MARKER = "cmtool-sync.json"


@dataclass(frozen=True)
class Commit:
    sha: str
    summary: str

    def to_dict(self) -> dict[str, str]:
        return {"sha": self.sha, "summary": self.summary}


def _run(root: Path, *args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = git_environ(env)
    full_env["GIT_TERMINAL_PROMPT"] = "0"  # a cron job must fail, not wait for a password
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, encoding="utf-8", env=full_env
    )


def _last_line(done: subprocess.CompletedProcess) -> str:
    lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
    return lines[-1].strip() if lines else f"exit status {done.returncode}"


def current_branch(root: Path) -> str:
    done = _run(root, "symbolic-ref", "-q", "--short", "HEAD")
    if done.returncode != 0:
        raise GitError("HEAD is detached (not on a branch); sync needs a branch", hint="git switch main")
    return done.stdout.strip()


def default_remote(root: Path, branch: str) -> str:
    """The branch's upstream remote, else ``origin``, else the only remote."""
    configured = gitops.git(root, "config", f"branch.{branch}.remote", check=False).strip()
    if configured:
        return configured
    remotes = gitops.git(root, "remote").split()
    if "origin" in remotes:
        return "origin"
    if len(remotes) == 1:
        return remotes[0]
    if not remotes:
        raise NotFound(
            "this workspace has no git remote to sync with",
            hint="add the shared one: git remote add origin URL",
        )
    raise UsageError(f"several remotes ({', '.join(remotes)}); name one with --remote")


def check_remote(root: Path, name: str) -> None:
    if name not in gitops.git(root, "remote").split():
        raise NotFound(f"no git remote named {name!r}", hint="list them with: git remote -v")


def fetch(root: Path, remote: str) -> None:
    done = _run(root, "fetch", "--quiet", "--prune", remote)
    if done.returncode != 0:
        raise GitError(
            f"could not fetch from {remote}: {_last_line(done)}",
            hint="check the network and the remote's URL (git remote -v); nothing was changed",
        )


def tracking_ref(root: Path, remote: str, branch: str) -> str | None:
    ref = f"refs/remotes/{remote}/{branch}"
    out = gitops.git(root, "rev-parse", "-q", "--verify", ref, check=False).strip()
    return out or None


def commits(root: Path, exclude: str | None, include: str) -> list[Commit]:
    """Commits reachable from ``include`` but not from ``exclude``, oldest first."""
    spec = [f"^{exclude}", include] if exclude else [include]
    out = gitops.git(root, "log", "--reverse", "--format=%h%x09%s", *spec, "--")
    return [Commit(*line.split("\t", 1)) for line in out.splitlines() if "\t" in line]


def merge_base(root: Path, left: str, right: str) -> str | None:
    return gitops.git(root, "merge-base", left, right, check=False).strip() or None


def changed_paths(root: Path, old: str, new: str) -> set[str]:
    out = gitops.git(root, "diff", "--name-only", "-z", "--no-renames", old, new, "--")
    return {path for path in out.split("\0") if path}


def deleted_cases(root: Path, old: str, new: str) -> list[str]:
    """Case files ``old`` has and ``new`` lacks (deleted or renamed between them)."""
    out = gitops.git(
        root, "diff", "--name-only", "-z", "--no-renames", "--diff-filter=D", old, new, "--", "cases/"
    )
    return sorted(path for path in out.split("\0") if path.endswith(".yaml"))


def uncommitted(root: Path) -> list[str]:
    """Tracked files that differ from HEAD, and untracked files under cases/."""
    out = gitops.git(root, "status", "--porcelain", "-z", "--untracked-files=all", "--", ".")
    paths = []
    for record in out.split("\0"):
        if len(record) > 3:
            code, path = record[:2], record[3:]
            if code != "??" or path.startswith("cases/"):
                paths.append(path)
    return paths


def merge_in_progress(root: Path) -> bool:
    return (root / ".git" / "MERGE_HEAD").exists()


def driver_command() -> str:
    """This very cmtool as the merge driver (cron's PATH may not find `cmtool`)."""
    return f"{shlex.quote(sys.executable)} -m cmtool merge-driver %O %A %B %P"


def merge(root: Path, ref: str, message: str, env: Mapping[str, str]) -> list[str]:
    """Merge ``ref`` into HEAD (fast-forward when possible). Returns the conflicted
    paths after aborting the merge; an empty list means HEAD now includes ``ref``."""
    marker = root / ".git" / SYNC_MARKER
    marker.write_text(json.dumps({"pid": os.getpid(), "merging": ref}), encoding="utf-8")
    try:
        done = _run(
            root,
            "-c",
            f"merge.cmtool.driver={driver_command()}",
            "merge",
            "--no-edit",
            "--no-stat",
            "-m",
            message,
            ref,
            env=env,
        )
        if done.returncode == 0:
            return []
        out = gitops.git(root, "diff", "--name-only", "-z", "--diff-filter=U", check=False)
        conflicted = sorted(path for path in out.split("\0") if path)
        if merge_in_progress(root):
            abort_merge(root)
        if not conflicted:
            raise GitError(
                f"git merge failed: {_last_line(done)}", hint="the workspace is as it was before the sync"
            )
        return conflicted
    finally:
        marker.unlink(missing_ok=True)


def abort_merge(root: Path) -> None:
    """Put index and working tree back to HEAD, as `git merge --abort` does."""
    done = _run(root, "reset", "-q", "--merge")
    if done.returncode != 0:
        raise GitError(f"could not undo the merge: {_last_line(done)}", hint="run cmtool doctor --repair")


def interrupted_sync(root: Path) -> bool:
    """A sync died while merging: its marker is still there."""
    return (root / ".git" / SYNC_MARKER).exists()


def clear_interrupted_sync(root: Path) -> None:
    """Undo the merge a killed sync left (only ever called under the workspace lock)."""
    abort_merge(root)
    (root / ".git" / SYNC_MARKER).unlink(missing_ok=True)


SEAL_TAGS = "refs/tags/cmtool-seal-*"


def push(root: Path, remote: str, branch: str) -> str | None:
    """Push HEAD to the remote branch, never forced. None when pushed, else why not
    (the remote moved meanwhile, or a real failure: the caller fetches to tell)."""
    upstream = gitops.git(root, "config", f"branch.{branch}.remote", check=False).strip()
    args = ["push", "--porcelain"] + ([] if upstream else ["--set-upstream"])
    # Seals travel too (never forced), so every clone's audit checks them; fetching
    # brings them in by itself (git follows the tags of the commits it fetches).
    done = _run(root, *args, remote, f"HEAD:refs/heads/{branch}", f"{SEAL_TAGS}:{SEAL_TAGS}")
    if done.returncode == 0:
        return None
    rejected = [line.split("\t")[-1] for line in done.stdout.splitlines() if line.startswith("!")]
    return f"could not push to {remote}: {rejected[0] if rejected else _last_line(done)}"


def point_bare_head(root: Path, remote: str, branch: str) -> bool:
    """Make a local bare remote's HEAD name ``branch`` when it names a branch that
    does not exist (a ``git init --bare`` made with another default branch), so a
    fresh ``git clone`` checks out the workspace instead of an empty folder.
    Returns whether it changed HEAD; remotes on a host are left to the host."""
    url = gitops.git(root, "remote", "get-url", remote, check=False).strip()
    if url.startswith("file://"):
        url = url[len("file://") :]
    elif "://" in url or (":" in url.split("/", 1)[0]):
        return False  # ssh://, https://, or scp-like host:path
    target = (root / url).resolve() if url else None
    if target is None or not (target / "HEAD").is_file() or not (target / "objects").is_dir():
        return False
    named = _run(target, "symbolic-ref", "-q", "HEAD")
    if named.returncode != 0:
        return False
    if _run(target, "rev-parse", "-q", "--verify", named.stdout.strip()).returncode == 0:
        return False  # HEAD names a branch that exists: someone chose it
    return _run(target, "symbolic-ref", "HEAD", f"refs/heads/{branch}").returncode == 0
