"""Which rules.yaml texts passed every check, remembered in ``.git/cmtool``.

Checking the public-holiday countries and subdivisions of the calendars asks the
``holidays`` package (about 0.5 s), too slow to repeat on every command, yet every
command must refuse rules that ``validate`` refuses. So the full check runs once
per version of the file, and its digest is remembered here. Losing this file only
costs one more check.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

MARKS = "rules-checked"
KEEP = 20  # digests remembered (switching branches back and forth stays quick)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _marks_file(rules_path: Path) -> Path | None:
    git_dir = rules_path.parent / ".git"
    return git_dir / "cmtool" / MARKS if git_dir.is_dir() else None


def is_checked(rules_path: Path, text: str) -> bool:
    marks = _marks_file(rules_path)
    try:
        return marks is not None and digest(text) in marks.read_text(encoding="ascii").split()
    except (OSError, UnicodeDecodeError):
        return False


def mark_checked(rules_path: Path, text: str) -> None:
    """Remember ``text`` as fully checked; a read-only copy just checks again next time."""
    marks = _marks_file(rules_path)
    if marks is None:
        return
    try:
        known = marks.read_text(encoding="ascii").split() if marks.exists() else []
        lines = [d for d in known if d != digest(text)][-(KEEP - 1) :] + [digest(text)]
        marks.parent.mkdir(parents=True, exist_ok=True)
        temp = marks.with_name(f".{MARKS}.{os.getpid()}")
        temp.write_text("\n".join(lines) + "\n", encoding="ascii")
        os.replace(temp, marks)
    except (OSError, UnicodeDecodeError):
        pass
