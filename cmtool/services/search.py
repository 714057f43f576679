"""`cmtool search`: find cases by their words, and the closed cases most like one."""

from __future__ import annotations

from typing import Any

from cmtool.model.enums import Status
from cmtool.services.query import parse_statuses
from cmtool.store.casefiles import load_case, resolve_id
from cmtool.store.catalog import search_text, similar_text
from cmtool.store.workspace import Workspace

SEARCH_COLUMNS = ("id", "status", "title", "snippet")
SIMILAR_COLUMNS = ("id", "status", "title", "resolution")
DONE = (Status.RESOLVED.value, Status.CLOSED.value)


def search(
    ws: Workspace, text: str, status: str | None = None, limit: int | None = 20
) -> list[dict[str, Any]]:
    """Rows of the cases holding every term of ``text``; the snippet marks a match in [ ]."""
    statuses = parse_statuses(status) or None
    hits = search_text(ws, text, limit, statuses)
    return [{"id": h.id, "status": h.status, "title": h.title, "snippet": h.snippet} for h in hits]


def similar(ws: Workspace, ref: str, limit: int = 5) -> list[dict[str, Any]]:
    """The resolved or closed cases most like this one, with how each was resolved:
    what worked before, for whoever handles this one now."""
    case_id = resolve_id(ws, ref)
    rows = []
    for hit in similar_text(ws, case_id, DONE, limit):
        case, _ = load_case(ws, hit.id)
        rows.append(
            {"id": hit.id, "status": hit.status, "title": hit.title, "resolution": case.get("resolution")}
        )
    return rows
