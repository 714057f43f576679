"""All cases of a workspace, for listing, SLA checks, stats, reports and export.

Reads go through the disposable SQLite index (``store.index``), which is brought
up to date with the work tree first, so a read never parses every YAML file
unless the index had to be rebuilt.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cmtool.model.case import Case
from cmtool.model.problems import Problem
from cmtool.store import fastjson, index, indexqueries, kpifacts, slafacts
from cmtool.store.casefiles import check_file
from cmtool.store.workspace import Workspace


def all_cases(
    ws: Workspace,
    statuses: Collection[str] | None = None,
    active_since: datetime | None = None,
    skip_broken: bool = False,
) -> list[Case]:
    """Every case (or those in ``statuses``), in ID order. With ``active_since``,
    only cases still open or changed since then: a monthly report at 100k cases
    reads the recent ones, not the whole history. A broken file raises DataError
    naming it, unless ``skip_broken`` (then :func:`broken_files` names it)."""
    from cmtool.model.enums import OPEN_STATUSES

    open_values = [s.value for s in OPEN_STATUSES]
    return index.load_cases(ws, statuses, active_since, open_values, skip_broken)


def broken_files(ws: Workspace, conn: sqlite3.Connection | None = None) -> list[Problem]:
    """What is wrong with each case file a read had to skip (path:line, code), as
    ``cmtool validate`` says it."""
    problems: list[Problem] = []
    for rel, error in index.broken_files(ws, conn):
        path = ws.root / rel
        found = check_file(ws, path)[1] if path.is_file() and not path.is_symlink() else []
        problems += found or [Problem("CASE_UNREADABLE", _message(error, rel), rel, _line(error, rel))]
    return problems


def _line(error: str, rel: str) -> int | None:
    head = error.removeprefix(f"{rel}:").split(":", 1)[0]
    return int(head) if error.startswith(f"{rel}:") and head.isdigit() else None


def _message(error: str, rel: str) -> str:
    return error.removeprefix(f"{rel}:").split(": ", 1)[-1].strip()


def first_filing(ws: Workspace) -> str | None:
    """When the workspace's first case was filed (None when it has none)."""
    return indexqueries.first_filing(ws)


def case_rows(
    ws: Workspace, statuses: Collection[str] | None = None, skip_broken: bool = False
) -> list[dict[str, Any]]:
    """The summary columns of every case, cheaper than whole cases (for ``list``)."""
    return index.summary_rows(ws, statuses, skip_broken)


def team_workload(
    ws: Workspace, team: str, members: Collection[str], open_statuses: Collection[str]
) -> dict[str, indexqueries.Workload]:
    """Open load and latest assignment per team member (for routing), from the index."""
    return indexqueries.team_workload(ws, team, members, open_statuses)


def case_ids(ws: Workspace) -> list[str]:
    """Every case ID in the index, sorted (as last refreshed: cheap enough for
    shell completion and for shortening IDs in a table)."""
    return indexqueries.case_ids(ws)


def distinct_values(ws: Workspace, column: str) -> list[str]:
    """The values one indexed column holds across cases, sorted (for completion)."""
    return indexqueries.distinct_values(ws, column)


def search_text(
    ws: Workspace,
    text: str,
    limit: int | None = 20,
    statuses: Collection[str] | None = None,
    fields: Collection[str] | None = None,
) -> list[indexqueries.textindex.Hit]:
    """Cases whose title, description, notes or resolution (or only ``fields`` of
    them) hold every term, best first."""
    return indexqueries.search_text(ws, text, limit, statuses, fields)


def similar_text(
    ws: Workspace,
    case_id: str,
    statuses: Collection[str],
    limit: int = 5,
    fields: Collection[str] | None = None,
) -> list:
    """Cases in ``statuses`` whose text (in ``fields``) is most like this case's, best first."""
    return indexqueries.similar_text(ws, case_id, statuses, limit, fields)


@dataclass(frozen=True)
class ToTime:
    # (case ID, path, clock facts) of the cases whose clocks may need the sweep now,
    # in ID order; facts None when not current or a pause is going on.
    facts: list[tuple[str, str, Any]]
    quiet_cases: int  # passed by: nothing is due on them yet
    quiet_clocks: int  # and their clocks
    broken: list[Problem]  # case files skipped, as broken_files says
    conn: sqlite3.Connection = field(repr=False)

    def cases(self, paths: Collection[str]) -> dict[str, Case]:
        """path -> the case, for those the facts cannot answer for."""
        found = kpifacts.payloads(self.conn, paths)
        return {path: fastjson.case_of(data) for path, (_blob, data) in found.items()}


def cases_to_time(
    ws: Workspace,
    statuses: Collection[str],
    facts_key: str,
    derive: Callable[[Case], slafacts.Facts],
    now: datetime,
) -> ToTime:
    """The cases in ``statuses`` (broken files skipped and named) whose clocks may need
    a sweep at ``now``, by the clock facts in the index; facts missing or derived
    under another ``facts_key`` are derived first (``derive``)."""
    conn, _ = index.refresh(ws)
    slafacts.refresh(conn, facts_key, statuses, derive)
    chosen = slafacts.select(conn, facts_key, statuses, now)
    facts = [(case_id, path, fastjson.loads(d) if d else None) for case_id, path, d in chosen.rows]
    return ToTime(facts, chosen.quiet_cases, chosen.quiet_clocks, broken_files(ws, conn), conn)
