"""Git plumbing: each action one commit, built from trees, never by rewriting the index.

An action changes a handful of files under ``cases/YYYY/MM/``. Its commit is
HEAD's tree with only the touched folders rebuilt, then a compare-and-swap
``update-ref``. The user's own staged changes never leak into a cmtool commit.
The index is then told about the new blobs of just those paths, so ``git
status`` stays clean. Where it can (:mod:`cmtool.store.nativegit`), this
process writes the objects and the split index itself; otherwise, and for
whatever git must do (signing, filters), the git commands below do it.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

from cmtool.errors import GitError
from cmtool.store import refs, splitindex
from cmtool.store.gitenv import git_environ
from cmtool.store.nativegit import MissingObject, NativeRepo, Unsupported

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
log = logging.getLogger("cmtool")


def git(
    root: Path, *args: str, input: str | None = None, env: Mapping[str, str] | None = None, check: bool = True
) -> str:
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=root,
            input=input,
            capture_output=True,
            text=True,
            env=git_environ(env),
            encoding="utf-8",
        )
    except FileNotFoundError as exc:
        raise GitError("git is not installed or not on PATH") from exc
    if check and done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        if ".lock': File exists" in done.stderr:  # a git process was killed mid-write
            raise GitError(
                f"git {args[0]} failed: {detail[0].removeprefix('fatal: ')}",
                hint="if no git command is running, run: cmtool doctor --repair",
            )
        raise GitError(f"git {args[0]} failed: {detail[-1] if detail else done.returncode}")
    return done.stdout


def git_ok(root: Path, *args: str) -> bool:
    """True when the git command succeeds (for yes/no questions like --is-ancestor)."""
    return subprocess.run(["git", *args], cwd=root, capture_output=True, env=git_environ()).returncode == 0


def _head_and_tree(root: Path) -> tuple[str | None, str | None]:
    """HEAD and its tree in one call; (None, None) before the first commit."""
    out = git(root, "rev-parse", "HEAD", "HEAD^{tree}", check=False).split()
    valid = len(out) == 2 and all(len(sha) == 40 for sha in out)
    return (out[0], out[1]) if valid else (None, None)


def head(root: Path) -> str | None:
    out = git(root, "rev-parse", "--verify", "-q", "HEAD", check=False).strip()
    return out or None


@dataclass(frozen=True)
class Identity:
    name: str
    email: str


NATIVE_ENV = "CMTOOL_NATIVE_GIT"  # "0": every object and index write goes through git commands


def _config_stamp(root: Path) -> int:
    try:
        return (root / ".git" / "config").stat().st_mtime_ns
    except OSError:
        return 0


def repo_config(root: Path) -> dict[str, str]:
    """Every git setting in force here (one ``git config --list`` per process,
    again after the repository's config file changes). A key without a value is "true"."""
    return _read_config(root, _config_stamp(root))


@lru_cache(maxsize=8)
def _read_config(root: Path, _stamp: int) -> dict[str, str]:
    out = git(root, "config", "-z", "--list", check=False)
    values = {}
    for record in out.split("\0"):
        if record:
            key, newline, value = record.partition("\n")
            values[key] = value if newline else "true"
    return values


def config_identity(root: Path) -> Identity | None:
    """git's user.name and user.email."""
    values = repo_config(root)
    name = values.get("user.name", "").strip()
    return Identity(name, values.get("user.email", "").strip()) if name else None


def native_repo(root: Path) -> NativeRepo | None:
    """The in-process writer for this repository, or None where git must write."""
    if os.environ.get(NATIVE_ENV) == "0":
        return None
    return _native(root, _config_stamp(root))


@lru_cache(maxsize=8)
def _native(root: Path, stamp: int) -> NativeRepo | None:
    return NativeRepo.open(root, _read_config(root, stamp))


def hash_files(root: Path, paths: Iterable[str], filters: bool = False) -> dict[str, str]:
    """Write the files' blobs; returns path -> blob id. Case files are stored as
    written (``--no-filters``); ``filters`` applies the attributes' filters (LFS)."""
    ordered = list(paths)
    if not ordered:
        return {}
    how = [] if filters else ["--no-filters"]
    out = git(root, "hash-object", "-w", "--stdin-paths", *how, input="\n".join(ordered) + "\n")
    return dict(zip(ordered, out.split(), strict=True))


BULK_BLOBS = 1000  # from this many files on, blobs go into one pack instead of loose objects


def write_blobs(root: Path, contents: Mapping[str, str | bytes]) -> dict[str, str]:
    """Write the files' blobs from their text (as written to disk); returns path -> blob id.

    A bulk write (an import of 100,000 rows) streams them through ``git
    fast-import`` into one pack: a loose object per file costs a file creation
    each, most of such a commit's time.
    """
    if len(contents) < BULK_BLOBS:
        native = native_repo(root)
        if native is None:
            return hash_files(root, contents)
        return {
            path: native.db.write("blob", text if isinstance(text, bytes) else text.encode("utf-8"))
            for path, text in contents.items()
        }
    try:
        feeder = subprocess.Popen(
            ["git", "fast-import", "--quiet", "--done"],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=git_environ(None),
        )
    except FileNotFoundError as exc:
        raise GitError("git is not installed or not on PATH") from exc
    ids = {}
    try:
        for path, text in contents.items():
            data = text if isinstance(text, bytes) else text.encode("utf-8")
            ids[path] = blob_id(data)
            feeder.stdin.write(b"blob\ndata %d\n" % len(data))
            feeder.stdin.write(data)
            feeder.stdin.write(b"\n")
        feeder.stdin.write(b"done\n")
        feeder.stdin.close()
    except BrokenPipeError:
        pass  # git stopped early: its exit status and message say why
    error = feeder.stderr.read().decode("utf-8", "replace").strip()
    if feeder.wait() != 0:
        raise GitError(f"git fast-import failed: {error.splitlines()[-1] if error else feeder.returncode}")
    return ids


def _ls_tree(root: Path, treeish: str) -> dict[str, tuple[str, str, str]]:
    out = git(root, "ls-tree", "-z", treeish, check=False)
    entries = {}
    for record in out.split("\0"):
        if record:
            meta, name = record.split("\t", 1)
            mode, kind, sha = meta.split()
            entries[name] = (mode, kind, sha)
    return entries


def head_folder_blobs(root: Path, folder: str) -> dict[str, str]:
    """name -> blob id of the files directly in ``folder`` at HEAD ({} if none)."""
    native = native_repo(root)
    if native is not None:
        try:
            return native.folder_blobs(native.head()[1], folder)
        except (Unsupported, MissingObject, OSError):
            pass
    return tree_blobs(root, f"HEAD:{folder}")


def tree_blobs(root: Path, treeish: str) -> dict[str, str]:
    """name -> blob id of the files directly in a tree ({} if it does not exist)."""
    return {name: sha for name, (_, kind, sha) in _ls_tree(root, treeish).items() if kind == "blob"}


def build_tree(root: Path, base_tree: str | None, changes: Mapping[str, str | None]) -> str:
    """A tree equal to ``base_tree`` with files set to blobs (or removed, for None)."""
    by_dir: dict[str, dict[str, str | None]] = {}
    for path, blob in changes.items():
        parent = PurePosixPath(path)
        by_dir.setdefault(str(parent.parent), {})[parent.name] = blob
    return _rebuild(root, base_tree, "", by_dir)


def _rebuild(
    root: Path, base_tree: str | None, prefix: str, by_dir: Mapping[str, Mapping[str, str | None]]
) -> str:
    here = prefix or "."
    entries = _ls_tree(root, base_tree) if base_tree else {}
    for name, blob in by_dir.get(here, {}).items():
        if blob is None:
            entries.pop(name, None)
        else:
            entries[name] = ("100644", "blob", blob)
    children = {
        d[len(prefix) + 1 if prefix else 0 :].split("/", 1)[0]
        for d in by_dir
        if d != "." and (not prefix or d.startswith(prefix + "/"))
    }
    for child in sorted(children):
        sub_prefix = f"{prefix}/{child}" if prefix else child
        existing = entries.get(child)
        sub_base = existing[2] if existing and existing[1] == "tree" else None
        sub_tree = _rebuild(root, sub_base, sub_prefix, by_dir)
        if sub_tree == EMPTY_TREE:
            entries.pop(child, None)
        else:
            entries[child] = ("040000", "tree", sub_tree)
    if not entries:
        return EMPTY_TREE
    listing = "".join(f"{m} {k} {s}\t{n}\0" for n, (m, k, s) in entries.items())
    return git(root, "mktree", "-z", input=listing).strip()


def commit_changes(
    root: Path,
    changes: Mapping[str, str | None],
    message: str,
    author: Identity,
    committer: Identity,
    date: str,
) -> str:
    """One commit on HEAD applying ``changes`` (path -> blob, None = delete)."""
    native = native_repo(root)
    tree = commit = None
    if native is not None:
        try:
            parent, base_tree = native.head()
            tree = native.build_tree(base_tree, changes)
            people = (author.name, author.email), (committer.name, committer.email)
            commit = native.commit_object(tree, parent, message, *people, date)
        except (Unsupported, MissingObject, OSError) as exc:
            log.debug("git writes this commit: %s", exc)
    if tree is None:
        parent, base_tree = _head_and_tree(root)
        tree = build_tree(root, base_tree, changes)
    if commit is None:
        commit = _commit_tree(root, tree, parent, message, author, committer, date)
    # Compare-and-swap: fails rather than lose a commit someone made meanwhile.
    _move_head(root, native is not None, commit, parent, f"cmtool: {message.splitlines()[0]}")
    # The commit is made: HEAD moved. Failing now (a stale index.lock) would make
    # a retry file a duplicate, so the action is reported done, with a warning.
    try:
        sync_index(root, changes, just_written=native is not None)
    except GitError as exc:
        log.warning(
            "committed %s, but git's index was not updated (%s); `git status` shows the files "
            "as changed until `cmtool doctor --repair`",
            commit[:12],
            str(exc).removeprefix("git update-index failed: "),
        )
    return commit


def _move_head(root: Path, native: bool, commit: str, parent: str | None, reason: str) -> None:
    if native:
        try:
            refs.update_head(root, repo_config(root), commit, parent, reason)
            return
        except (Unsupported, OSError) as exc:
            log.debug("git moves HEAD: %s", exc)
    git(root, "update-ref", "-m", reason, "HEAD", commit, parent or "0" * 40)


def _commit_tree(
    root: Path, tree: str, parent: str | None, message: str, author: Identity, committer: Identity, date: str
) -> str:
    env = {
        "GIT_AUTHOR_NAME": author.name,
        "GIT_AUTHOR_EMAIL": author.email,
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_NAME": committer.name,
        "GIT_COMMITTER_EMAIL": committer.email,
        "GIT_COMMITTER_DATE": date,
    }
    parents = ["-p", parent] if parent else []
    return git(root, "commit-tree", tree, *parents, input=message, env=env).strip()


def sync_index(root: Path, changes: Mapping[str, str | None], just_written: bool = False) -> None:
    """Record the committed files in the index (with stat data) so status is clean.

    ``just_written``: the files were written to disk by this action (so their
    folders' times changed, which is what git's untracked cache checks); only
    then are the entries rewritten in-process, else ``git update-index`` does it."""
    fold = []
    if just_written and os.environ.get(NATIVE_ENV) != "0":
        try:
            splitindex.update(root, changes)
            return
        except splitindex.IndexLocked as exc:
            raise GitError(f"git update-index failed: {exc}") from None
        except splitindex.Fold:
            fold = ["--split-index"]  # git writes a new shared index, the split part starts empty
        except Exception as exc:  # noqa: BLE001 - whatever the reason, git's own update is the answer
            log.debug("git updates the index: %s", exc)
    present = [path for path, blob in changes.items() if blob is not None]
    removed = [path for path, blob in changes.items() if blob is None]
    if present:
        git(root, "update-index", *fold, "--add", "-z", "--stdin", input="\0".join(present) + "\0")
    if removed:
        git(root, "update-index", "--force-remove", "-z", "--stdin", input="\0".join(removed) + "\0")


def blob_at(root: Path, rev: str, path: str) -> str | None:
    out = git(root, "rev-parse", "-q", "--verify", f"{rev}:{path}", check=False).strip()
    return out or None


def blob_id(data: bytes) -> str:
    """The id git gives these bytes as a blob, computed without a subprocess."""
    import hashlib

    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
