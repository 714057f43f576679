"""`cmtool validate`: every case file and rules.yaml, every problem at once."""

from __future__ import annotations

from cmtool.model.problems import Problem
from cmtool.rules.loader import check_rules_file
from cmtool.store.casefiles import check_file, iter_case_paths
from cmtool.store.workspace import Workspace


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
        problems += check_file(ws, path)[1]
    return checked, problems
