"""Reading the workspace as it stood at a past commit (for ``report --as-of``).

Case files come straight from that commit's tree: one ``git ls-tree`` lists the
paths, one ``git cat-file --batch`` process streams every blob, so nothing in
the work tree is touched and 10,000 files cost two processes, not 10,000.
"""

from __future__ import annotations

import re
import subprocess
from datetime import datetime

from cmtool.errors import DataError, GitError, NotFound
from cmtool.model.case import Case
from cmtool.model.timefmt import format_time, parse_time
from cmtool.store.git import git
from cmtool.store.workspace import Workspace
from cmtool.store.yamlio import load

_SHA_LIKE = re.compile(r"^[0-9a-fA-F]{4,40}$")
_CASE_PATH = re.compile(r"^cases/\d{4}/\d{2}/C-[^/]+\.yaml$")


def resolve_as_of(ws: Workspace, text: str) -> tuple[str, str]:
    """(commit, its date) that ``--as-of`` names: a commit, or the last commit at or
    before a date/time (a bare date means the end of that day, in its offset or UTC)."""
    value = text.strip()
    if _SHA_LIKE.match(value) or not value[:4].isdigit():
        out = git(
            ws.root, "rev-parse", "-q", "--verify", f"{value}^{{commit}}", check=False
        ).strip()
        if out:
            return out, _commit_date(ws, out)
        if not value[:4].isdigit():
            raise NotFound(f"--as-of {text!r}: no such commit")
    moment = _as_time(value)
    out = git(
        ws.root, "rev-list", "-1", f"--before={format_time(moment)}", "HEAD", check=False
    ).strip()
    if not out:
        raise NotFound(f"--as-of {text!r}: the workspace has no commit that old")
    return out, _commit_date(ws, out)


def _as_time(value: str) -> datetime:
    try:
        if "T" in value:
            return parse_time(value)
        return parse_time(f"{value}T23:59:59+00:00")
    except ValueError as exc:
        raise DataError(
            f"--as-of {value!r}: {exc} (give a commit, a date or an ISO time)"
        ) from None


def _commit_date(ws: Workspace, commit: str) -> str:
    return git(ws.root, "show", "-s", "--format=%cI", commit).strip()


def file_at(ws: Workspace, commit: str, rel: str) -> bytes | None:
    done = subprocess.run(
        ["git", "cat-file", "blob", f"{commit}:{rel}"], cwd=ws.root, capture_output=True
    )
    return done.stdout if done.returncode == 0 else None


def cases_at(ws: Workspace, commit: str) -> list[Case]:
    """Every case file in ``commit``'s tree, in ID order."""
    listing = git(ws.root, "ls-tree", "-r", "-z", commit, "--", "cases")
    entries = []
    for record in listing.split("\0"):
        if record:
            meta, path = record.split("\t", 1)
            if _CASE_PATH.match(path):
                entries.append((meta.split()[2], path))
    entries.sort(key=lambda item: item[1].rsplit("/", 1)[-1])
    cases = []
    with subprocess.Popen(
        ["git", "cat-file", "--batch"], cwd=ws.root, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    ) as proc:
        assert proc.stdin and proc.stdout
        for blob, path in entries:
            proc.stdin.write(f"{blob}\n".encode())
            proc.stdin.flush()
            header = proc.stdout.readline().split()
            if len(header) != 3:
                raise GitError(f"git cat-file could not read {path} at {commit[:12]}")
            data = proc.stdout.read(int(header[2]))
            proc.stdout.read(1)  # the newline after each blob
            parsed = load(data.decode("utf-8"), f"{path} (at {commit[:12]})")
            try:
                cases.append(Case.from_dict(parsed))
            except (KeyError, TypeError, AttributeError) as exc:
                raise DataError(
                    f"{path} (at {commit[:12]}): not a valid case file ({exc})"
                ) from None
        proc.stdin.close()
    return cases
