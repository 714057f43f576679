"""`cmtool validate`: every case file and rules.yaml, every problem at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cmtool.errors import DataError
from cmtool.model.problems import Problem
from cmtool.model.timefmt import too_far_ahead
from cmtool.rules.loader import check_rules_file
from cmtool.store import git as gitops
from cmtool.store import index
from cmtool.store.casefiles import check_file, iter_case_paths, read_text
from cmtool.store.catalog import broken_files
from cmtool.store.workspace import Workspace
from cmtool.store.yamlio import load_with_lines


def validate_workspace(ws: Workspace) -> tuple[int, list[Problem]]:
    """(number of case files checked, problems found)."""
    problems: list[Problem] = []
    if ws.rules_path.exists():
        problems += check_rules_file(ws.rules_path)[1]
    else:
        problems.append(Problem("RULES_MISSING", "rules.yaml is missing", "rules.yaml"))
    checked = 0
    for path in iter_case_paths(ws):
        checked += 1
        data, found = check_file(ws, path)
        problems += found + _future_events(ws, path, data)
    return checked, problems


def _future_events(ws: Workspace, path: Path, data: dict | None) -> list[Problem]:
    """Events dated more than a day ahead of the real clock (a wrong --now, a clone
    with a bad clock): until then no action on the case can be recorded after them."""
    events = data.get("events") if data else None
    late = [index for index, item in enumerate(events) if _ahead(item)] if isinstance(events, list) else []
    if not late:
        return []
    rel = str(path.relative_to(ws.root))
    try:
        lines = load_with_lines(read_text(path, ws.root), rel)[1]
    except DataError:
        lines = {}
    return [
        Problem(
            "EVENT_IN_FUTURE",
            f"event {index + 1} is dated {events[index]['at']}, more than a day ahead of this "
            "computer's clock: no later action can be recorded on the case until then",
            rel,
            lines.get(f"events[{index}]"),
            data.get("id") if data else None,
        )
        for index in late
    ]


def _ahead(event: Any) -> bool:
    try:
        return too_far_ahead(event["at"])
    except (KeyError, TypeError, ValueError):
        return False  # a missing or bad time is a schema problem already


def skipped_case_files(ws: Workspace) -> list[Problem]:
    """The case files a listing or report just skipped because it could not read
    them. Its read scanned the work tree; this one follows commits only (a second
    scan costs as much again at 100k cases), so it names the files that read met."""
    return broken_files(ws, index.refresh(ws, worktree=False)[0])


def fixes(ws: Workspace, problems: list[Problem]) -> list[str]:
    """One line per broken case file saying how to get it back: an uncommitted hand
    edit can be undone; a committed one restored from the commit before it."""
    paths = sorted({p.path for p in problems if p.path.startswith("cases/")})
    if not paths:
        return []
    changed = set(gitops.git(ws.root, "diff", "--name-only", "HEAD", "--", *paths).split("\n"))
    lines = []
    for rel in paths:
        if rel in changed:
            lines.append(
                f"fix: {rel} was edited by hand since the last commit: see the edit with "
                f"`git diff -- {rel}`, undo it with `git checkout -- {rel}`"
            )
        else:
            lines.append(
                f"fix: {rel} is broken in the last commit: correct the line named above, or find "
                f"the last good version with `git log -- {rel}` and restore it with "
                f"`git checkout COMMIT -- {rel}`, then commit"
            )
    return lines
