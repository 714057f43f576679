"""What a customer may see of their own case: its status, the next deadline and
the letters sent, given the case ID and its status code. Nothing internal (no
notes, owner, team or category) and no personal data is ever returned."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cmtool.errors import CmtoolError
from cmtool.model.ids import is_valid_id
from cmtool.model.timefmt import parse_time
from cmtool.rules.loader import load_rules
from cmtool.sla.clocks import case_clocks
from cmtool.store.casefiles import load_case
from cmtool.store.statuskey import code_matches, status_code
from cmtool.store.workspace import Workspace

RUNNING = ("ok", "warning", "breached", "paused")
LETTER_KINDS = ("ack", "holding", "final")


def status_link(ws: Workspace, public_url: str | None, case_id: str) -> tuple[str | None, str | None]:
    """(the status page's address for this case, its code); (None, None) when no
    public URL is configured (intake.web.public_url): then no letter mentions it."""
    if not public_url:
        return None, None
    return f"{public_url}/status?id={case_id}", status_code(ws, case_id)


def lookup(ws: Workspace, case_id: str, code: str, now: datetime) -> dict[str, Any] | None:
    """The customer's view of ``case_id``; None unless the code is that case's (an
    unknown ID and a wrong code look the same to the caller)."""
    case_id = case_id.strip().upper()
    if not is_valid_id(case_id) or not code_matches(ws, case_id, code):
        return None
    try:
        case, _ = load_case(ws, case_id)
    except CmtoolError:
        return None
    rules = load_rules(ws.rules_path)
    running = [
        parse_time(c.extended_due_at or c.due_at)
        for c in case_clocks(case, rules, now)
        if c.due_at and c.state in RUNNING
    ]
    letters = [
        {"kind": e.details["letter"], "at": e.at}
        for e in case.events
        if e.action == "note" and e.details.get("letter") in LETTER_KINDS
    ]
    return {
        "id": case.id,
        "status": case.status.value,
        "filed_at": case.get("filed_at"),
        "next_deadline": min(running).isoformat() if running and case.is_open else None,
        "letters": letters,
    }
