"""Questions answered straight from the index in SQL, without building cases:
routing's team workload, the first filing, IDs and values for shell completion,
and full-text search. ``store.index`` keeps the index current; this reads it."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from dataclasses import dataclass

from cmtool.store import textindex
from cmtool.store.index import COLUMNS, db_path, open_current, raise_broken, refresh
from cmtool.store.workspace import Workspace


@dataclass(frozen=True)
class Workload:
    open_cases: int  # open cases assigned to this person, any team
    last_assigned_at: str | None  # UTC, the latest case of the team this person got


def team_workload(
    ws: Workspace, team: str, members: Collection[str], open_statuses: Collection[str]
) -> dict[str, Workload]:
    """What routing needs to pick an assignee, answered in SQL instead of loading cases.
    Routing is a choice, not a report: uncommitted hand edits may be ignored, which
    saves the work-tree scan on every `file`."""
    conn, _ = refresh(ws, worktree=False)
    raise_broken(conn)
    people = list(members)
    marks = ",".join("?" * len(people))
    open_marks = ",".join("?" * len(open_statuses))
    load = dict(
        conn.execute(
            f"SELECT assignee, count(*) FROM cases WHERE assignee IN ({marks}) "
            f"AND status IN ({open_marks}) GROUP BY assignee",
            [*people, *open_statuses],
        )
    )
    latest = dict(
        conn.execute(
            f"SELECT assignee, max(assigned_at) FROM cases WHERE team = ? AND assignee IN ({marks}) "
            "GROUP BY assignee",
            [team, *people],
        )
    )
    return {p: Workload(load.get(p, 0), latest.get(p)) for p in people}


def first_filing(ws: Workspace, conn: sqlite3.Connection | None = None) -> str | None:
    """The earliest ``filed_at`` of any case, from a current index (``conn``: one just
    refreshed). Compared as text, so offsets may shift it by hours: callers use it at
    the scale of periods."""
    conn = conn or refresh(ws)[0]
    return conn.execute("SELECT min(filed_at) FROM cases").fetchone()[0]


def case_ids(ws: Workspace) -> list[str]:
    if not db_path(ws).exists():
        return []
    conn = open_current(ws)
    return [row[0] for row in conn.execute("SELECT id FROM cases WHERE id IS NOT NULL ORDER BY id")]


def distinct_values(ws: Workspace, column: str) -> list[str]:
    if column not in COLUMNS or not db_path(ws).exists():
        return []
    conn = open_current(ws)
    query = f"SELECT DISTINCT {column} FROM cases WHERE {column} IS NOT NULL ORDER BY 1"
    return [row[0] for row in conn.execute(query)]


def search_text(
    ws: Workspace,
    text: str,
    limit: int | None,
    statuses: Collection[str] | None,
    fields: Collection[str] | None = None,
) -> list[textindex.Hit]:
    conn, _ = refresh(ws)
    return textindex.search(conn, text, limit, statuses, fields)


def similar_text(
    ws: Workspace, case_id: str, statuses: Collection[str], limit: int, fields: Collection[str] | None = None
) -> list[textindex.Hit]:
    """Cases like ``case_id`` by their words in ``fields``; empty when it is not indexed."""
    conn, _ = refresh(ws)
    text = textindex.text_row(conn, case_id, fields)
    title = textindex.text_row(conn, case_id, [c for c in ("title",) if fields is None or c in fields])
    return textindex.similar(conn, title or "", text, case_id, statuses, limit, fields) if text else []
