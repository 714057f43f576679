"""The git merge driver for case files: `cmtool merge-driver %O %A %B %P`.

git hands over three temporary files (base, ours, theirs) and the real path.
The result goes into the "ours" file. When either side is not a valid case
file, the driver refuses: it leaves git's usual conflict markers in the file
for a person and exits non-zero, which git records as a conflict.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cmtool.errors import DataError
from cmtool.model.merge import Contest, MergeRefused, merge_case_data
from cmtool.model.schema import check_case_data
from cmtool.store import git as gitops
from cmtool.store.casefiles import read_text
from cmtool.store.yamlio import load_with_lines
from cmtool.store.yamlstyle import dump


@dataclass(frozen=True)
class DriverOutcome:
    path: str
    merged: bool
    contests: tuple[Contest, ...] = ()
    reason: str = ""


def _parse(path: Path, label: str, shown: str) -> dict:
    try:
        data, lines = load_with_lines(read_text(path), f"{shown} ({label})")
    except DataError as exc:
        raise MergeRefused(str(exc)) from None
    problems = check_case_data(data, f"{shown} ({label})", lines)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise MergeRefused(f"{problems[0]}{more}")
    return data


def merge_files(base: Path, ours: Path, theirs: Path, shown: str) -> DriverOutcome:
    """Merge ``theirs`` into ``ours`` in place; ``shown`` is the path in the repository."""
    try:
        result = merge_case_data(_parse(ours, "ours", shown), _parse(theirs, "theirs", shown))
    except MergeRefused as exc:
        _leave_conflict_markers(base, ours, theirs, shown)
        return DriverOutcome(shown, False, reason=str(exc))
    text = dump(result.case.to_dict())
    temp = ours.with_name(ours.name + ".cmtool-merge")
    temp.write_text(text, encoding="utf-8", newline="\n")
    temp.replace(ours)
    return DriverOutcome(shown, True, result.contests)


def _leave_conflict_markers(base: Path, ours: Path, theirs: Path, shown: str) -> None:
    """What git itself would leave: a line merge with <<<<<<< markers where needed."""
    gitops.git(
        Path.cwd(),
        "merge-file",
        "-L",
        f"{shown} (ours)",
        "-L",
        "base",
        "-L",
        f"{shown} (theirs)",
        str(ours),
        str(base),
        str(theirs),
        check=False,
    )
