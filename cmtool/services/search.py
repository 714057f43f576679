"""`cmtool search`: find cases by their words, and the closed cases most like one."""

from __future__ import annotations

from typing import Any

from cmtool.model.enums import Status
from cmtool.services.need_to_know import mask
from cmtool.services.query import parse_statuses, visible_text_fields
from cmtool.store.casefiles import load_case, resolve_id
from cmtool.store.catalog import search_text, similar_text
from cmtool.store.workspace import Workspace

SEARCH_COLUMNS = ("id", "status", "title", "snippet")
SIMILAR_COLUMNS = ("id", "status", "title", "resolution")
DONE = (Status.RESOLVED.value, Status.CLOSED.value)


def search(
    ws: Workspace,
    text: str,
    status: str | None = None,
    limit: int | None = 20,
    hidden: frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    """Rows of the cases holding every term of ``text``; the snippet marks a match in [ ].
    Only the text fields the reader may read (not ``hidden``) are searched and quoted."""
    statuses = parse_statuses(status) or None
    hits = search_text(ws, text, limit, statuses, visible_text_fields(hidden))
    return [
        {"id": h.id, "status": h.status, "title": mask(h.title, "title", hidden), "snippet": h.snippet}
        for h in hits
    ]


def similar(
    ws: Workspace, ref: str, limit: int = 5, hidden: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """The resolved or closed cases most like this one, with how each was resolved:
    what worked before, for whoever handles this one now (by the words they may read)."""
    case_id = resolve_id(ws, ref)
    rows = []
    for hit in similar_text(ws, case_id, DONE, limit, visible_text_fields(hidden)):
        case, _ = load_case(ws, hit.id)
        rows.append(
            {
                "id": hit.id,
                "status": hit.status,
                "title": mask(hit.title, "title", hidden),
                "resolution": mask(case.get("resolution"), "resolution", hidden),
            }
        )
    return rows
