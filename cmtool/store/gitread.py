"""Reading git history in bulk: one ``git log`` pass, one ``cat-file --batch`` process.

The audit trail (verify, history, as-of, export) reads thousands of commits
and blobs. Starting a subprocess per commit or per file costs milliseconds
each, so everything here streams: :func:`read_log` parses a single ``git log
--raw`` run and :class:`BlobReader` keeps one ``git cat-file --batch`` process
open for every blob a command needs.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from cmtool.errors import GitError
from cmtool.store.gitenv import git_environ

_COMMIT, _FIELD, _END = "\x1e", "\x1f", "\x1d"
# %G? (signature status) makes git run gpg/ssh-keygen per signed commit: only on request.
_FIELDS = ("%H", "%P", "%T", "%an", "%ae", "%aI", "%cn", "%ce", "%cI")
ZERO = "0" * 40


@dataclass(frozen=True)
class RawChange:
    """One file changed by a commit, against one parent (``--raw`` output)."""

    status: str  # A added, M modified, D deleted, T type change
    old_blob: str  # ZERO when added
    new_blob: str  # ZERO when deleted
    path: str
    new_mode: str = "100644"  # 120000 a symbolic link, 160000 a submodule, 000000 deleted


@dataclass
class LogCommit:
    sha: str
    parents: tuple[str, ...]
    tree: str
    author_name: str
    author_email: str
    author_date: str  # strict ISO 8601 with offset
    committer_name: str
    committer_email: str
    committer_date: str
    message: str
    signature: str = ""  # git's %G? letter when asked for, else ""
    # One list of changes per parent diffed (merges: one per parent with -m).
    diffs: list[list[RawChange]] = field(default_factory=list)

    @property
    def changes(self) -> list[RawChange]:
        return self.diffs[0] if self.diffs else []

    @property
    def summary(self) -> str:
        return self.message.split("\n", 1)[0]

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1


def run_git(root: Path, *args: str, check: bool = True) -> str:
    """Run git and decode its output leniently (a stray non-UTF-8 byte is no crash)."""
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, env=git_environ())
    except FileNotFoundError as exc:
        raise GitError("git is not installed or not on PATH") from exc
    if check and done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]} failed: {detail[-1] if detail else done.returncode}")
    return done.stdout.decode("utf-8", "replace")


def read_log(
    root: Path,
    revs: Sequence[str],
    paths: Sequence[str] = (),
    *,
    raw: bool = True,
    signatures: bool = False,
    reverse: bool = True,
    first_parent: bool = False,
) -> list[LogCommit]:
    """Commits of ``revs`` (oldest first by default) with their raw diffs.

    Merges are diffed against every parent (``-m``), so the changes a merge
    brings from either side can be checked.
    """
    fmt = _COMMIT + _FIELD.join((*_FIELDS, "%G?" if signatures else "", "%B")) + _END
    args = ["log", f"--format={fmt}", "--topo-order", "--no-color"]
    if raw:
        args += ["--raw", "-z", "--no-renames", "--no-abbrev", "-m"]
    if reverse:
        args.append("--reverse")
    if first_parent:
        args.append("--first-parent")
    out = run_git(root, *args, *revs, "--", *paths)
    commits: list[LogCommit] = []
    by_sha: dict[str, LogCommit] = {}
    for chunk in out.split(_COMMIT)[1:]:
        head, _, rest = chunk.partition(_END)
        parts = head.split(_FIELD)
        sha = parts[0]
        diff = _parse_raw(rest) if raw else []
        if sha in by_sha:  # -m prints a merge once per parent
            by_sha[sha].diffs.append(diff)
            continue
        commit = LogCommit(
            sha,
            tuple(parts[1].split()),
            parts[2],
            parts[3],
            parts[4],
            parts[5],
            parts[6],
            parts[7],
            parts[8],
            parts[10],
            parts[9],
            [diff],
        )
        by_sha[sha] = commit
        commits.append(commit)
    return commits


def _parse_raw(text: str) -> list[RawChange]:
    fields = text.lstrip("\n\0").split("\0")
    changes = []
    index = 0
    while index + 1 < len(fields):
        meta = fields[index]
        if not meta.startswith(":"):
            index += 1
            continue
        _old_mode, new_mode, old, new, status = meta[1:].split()
        changes.append(RawChange(status[0], old, new, fields[index + 1], new_mode))
        index += 2
    return changes


class BlobReader:
    """One ``git cat-file --batch`` process: ask for any number of objects.

    For a known list of objects, :func:`read_blobs` is several times faster.
    """

    def __init__(self, root: Path) -> None:
        self._proc = subprocess.Popen(
            ["git", "cat-file", "--batch"],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=git_environ(),
        )

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._proc.stdin and not self._proc.stdin.closed:
            self._proc.stdin.close()
        self._proc.wait()
        if self._proc.stdout:
            self._proc.stdout.close()

    def read(self, spec: str) -> bytes | None:
        """An object's bytes by id or ``rev:path``; None when it does not exist."""
        assert self._proc.stdin is not None
        self._proc.stdin.write(spec.encode("utf-8") + b"\n")
        self._proc.stdin.flush()
        return self._answer()

    def _answer(self) -> bytes | None:
        assert self._proc.stdout is not None
        return _read_answer(self._proc.stdout)


def _read_answer(stdout: IO[bytes]) -> bytes | None:
    header = stdout.readline()
    if not header:
        raise GitError("git cat-file stopped unexpectedly")
    parts = header.split()
    if len(parts) < 3 or parts[-1] == b"missing":
        return None
    data = stdout.read(int(parts[2]))
    stdout.read(1)  # the newline after each object
    return data


def read_blobs(root: Path, specs: Iterable[str]) -> Iterator[bytes | None]:
    """Objects (by id or ``rev:path``) in request order, None for a missing one.

    One ``cat-file --batch --buffer`` process: a writer thread feeds every
    request while this thread reads the answers, so there is no round trip
    per object (about 5x faster than asking one at a time).
    """
    wanted = list(specs)
    proc = subprocess.Popen(
        ["git", "cat-file", "--batch", "--buffer"],
        cwd=root,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=git_environ(),
    )
    stdin, stdout = proc.stdin, proc.stdout
    assert stdin is not None and stdout is not None

    def feed() -> None:
        try:
            stdin.write(b"".join(spec.encode("utf-8") + b"\n" for spec in wanted))
            stdin.close()
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        for _ in wanted:
            yield _read_answer(stdout)
    finally:
        stdout.close()
        writer.join()
        proc.wait()


def rev_parse(root: Path, rev: str) -> str | None:
    """The commit ``rev`` names, or None."""
    out = run_git(root, "rev-parse", "-q", "--verify", f"{rev}^{{commit}}", check=False).strip()
    return out or None


def commit_at_or_before(root: Path, iso_time: str, rev: str = "HEAD") -> str | None:
    """The last first-parent commit of ``rev`` committed at or before ``iso_time``."""
    out = run_git(root, "rev-list", "--first-parent", "-1", f"--before={iso_time}", rev, "--", check=False)
    return out.strip() or None


def tree_blobs(root: Path, commit: str, prefix: str) -> list[tuple[str, str]]:
    """``(path, blob id)`` of every file under ``prefix`` in ``commit``, sorted by path."""
    out = run_git(root, "ls-tree", "-r", "-z", "--full-tree", commit, "--", prefix)
    entries = []
    for record in out.split("\0"):
        if record:
            meta, path = record.split("\t", 1)
            _mode, kind, sha = meta.split()
            if kind == "blob":
                entries.append((path, sha))
    return sorted(entries)


def is_ancestor(root: Path, ancestor: str, descendant: str) -> bool:
    done = subprocess.run(
        ["git", "merge-base", "--is-ancestor", ancestor, descendant],
        cwd=root,
        capture_output=True,
        env=git_environ(),
    )
    return done.returncode == 0


def history_overrides(root: Path) -> list[tuple[str, str]]:
    """``(kind, name)`` of what would make plain git show another history:
    every ``refs/replace/*`` ref and an ``info/grafts`` file (cmtool ignores both)."""
    refs = run_git(root, "for-each-ref", "--format=%(refname)", "refs/replace/").split()
    found = [("replace", ref) for ref in refs]
    common = run_git(root, "rev-parse", "--git-common-dir").strip()
    grafts = Path(common) / "info" / "grafts"  # --git-path would answer GIT_GRAFT_FILE
    if (root / grafts).exists():
        found.append(("grafts", str(grafts)))
    return found
