"""Writing many commits at once through ``git fast-import`` (one process, one stream).

The demo's history is a few hundred commits; one ``git`` run per commit would
cost seconds on a loaded machine, one stream costs a fraction of one.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cmtool.errors import GitError
from cmtool.store.gitenv import git_environ


@dataclass(frozen=True)
class PlannedCommit:
    mark: int  # this commit's mark (1, 2, ...); parents name earlier marks
    parents: tuple[int, ...]  # first parent first; () for the root commit
    author: str
    email: str
    when: datetime
    message: str
    files: Mapping[str, str] = field(default_factory=dict)  # path -> new text


def _data(text: str) -> bytes:
    raw = text.encode("utf-8")
    return f"data {len(raw)}\n".encode() + raw + b"\n"


def _stamp(when: datetime) -> str:
    offset = when.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    return f"{int(when.timestamp())} {sign}{minutes // 60:02d}{minutes % 60:02d}"


def write_commits(root: Path, branch: str, commits: Sequence[PlannedCommit]) -> dict[int, str]:
    """Stream ``commits`` onto ``refs/heads/<branch>`` (the last one is its tip);
    returns mark -> commit id."""
    marks_file = root / ".git" / "cmtool-fast-import-marks"
    proc = subprocess.Popen(
        ["git", "fast-import", "--quiet", "--done", f"--export-marks={marks_file}"],
        cwd=root,
        stdin=subprocess.PIPE,
        env=git_environ(),
    )
    out = proc.stdin
    assert out is not None
    try:
        for commit in commits:
            ident = f"{commit.author} <{commit.email}> {_stamp(commit.when)}"
            out.write(f"commit refs/heads/{branch}\nmark :{commit.mark}\n".encode())
            out.write(f"author {ident}\ncommitter {ident}\n".encode())
            out.write(_data(commit.message))
            if commit.parents:
                out.write(f"from :{commit.parents[0]}\n".encode())
                for parent in commit.parents[1:]:
                    out.write(f"merge :{parent}\n".encode())
            for path, text in commit.files.items():
                out.write(f"M 100644 inline {path}\n".encode())
                out.write(_data(text))
            out.write(b"\n")
        out.write(b"done\n")
        out.close()
    except BrokenPipeError:
        pass
    if proc.wait() != 0:
        raise GitError("git fast-import failed while writing the history")
    marks = {}
    for line in marks_file.read_text(encoding="ascii").splitlines():
        mark, sha = line.split()
        marks[int(mark.lstrip(":"))] = sha
    marks_file.unlink()
    return marks
