"""All cases of a workspace, for listing, SLA checks, stats, reports and export.

Reads go through the disposable SQLite index (``store.index``), which is brought
up to date with the work tree first, so a read never parses every YAML file
unless the index had to be rebuilt.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from cmtool.model.case import Case
from cmtool.store import index
from cmtool.store.workspace import Workspace


def all_cases(
    ws: Workspace, statuses: Collection[str] | None = None, active_since: datetime | None = None
) -> list[Case]:
    """Every case (or those in ``statuses``), in ID order. With ``active_since``,
    only cases still open or changed since then: a monthly report at 100k cases
    reads the recent ones, not the whole history. A broken file raises DataError
    naming it."""
    from cmtool.model.enums import OPEN_STATUSES

    open_values = [s.value for s in OPEN_STATUSES]
    return index.load_cases(ws, statuses, active_since, open_values)


def first_filing(ws: Workspace) -> str | None:
    """When the workspace's first case was filed (None when it has none)."""
    return index.first_filing(ws)


def case_rows(ws: Workspace, statuses: Collection[str] | None = None) -> list[dict[str, Any]]:
    """The summary columns of every case, cheaper than whole cases (for ``list``)."""
    return index.summary_rows(ws, statuses)


def team_workload(
    ws: Workspace, team: str, members: Collection[str], open_statuses: Collection[str]
) -> dict[str, index.Workload]:
    """Open load and latest assignment per team member (for routing), from the index."""
    return index.team_workload(ws, team, members, open_statuses)


def case_ids(ws: Workspace) -> list[str]:
    """Every case ID in the index, sorted (as last refreshed: cheap enough for
    shell completion and for shortening IDs in a table)."""
    return index.case_ids(ws)


def distinct_values(ws: Workspace, column: str) -> list[str]:
    """The values one indexed column holds across cases, sorted (for completion)."""
    return index.distinct_values(ws, column)
