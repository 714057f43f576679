"""What the dashboard shows beyond the reports' own figures, counted the same way.

The weekly flow is ``movements`` over week-long windows, all weeks counted in
one pass (so a week's bars reconcile exactly as a month's do); the overdue board
groups the open breached clocks of ``sections.breaches`` by team and person.
Everything else on the dashboard is the report context as it is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from cmtool.reports.facts import CaseFacts
from cmtool.reports.movements import movements_of

WEEKS = 12


def weekly_flow(facts: Sequence[CaseFacts], as_at: datetime, weeks: int = WEEKS) -> list[dict[str, Any]]:
    """Received and closed per week (Monday to Sunday, in the as-at time zone), the
    last ``weeks`` weeks up to ``as_at``; the current week is marked partial."""
    local = as_at
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    first_filed = min((f.filed for f in facts), default=None)
    starts = [monday - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]
    windows = [(start, min(start + timedelta(weeks=1), as_at)) for start in starts]
    rows = []
    for (start, end), flow in zip(windows, movements_of(facts, windows), strict=True):
        if first_filed is not None and start + timedelta(weeks=1) <= first_filed:
            rows.append({"week": start.date().isoformat(), "no_data": True, "partial": False})
            continue
        rows.append(
            {
                "week": start.date().isoformat(),
                "no_data": False,
                "partial": end < start + timedelta(weeks=1),
                **flow,
            }
        )
    return rows


def overdue_board(
    breaches: Sequence[Mapping[str, Any]], teams: Mapping[str, str | None]
) -> list[dict[str, Any]]:
    """Open breached clocks per (team, assignee), most first. ``teams``: case ID -> team."""
    counts = Counter(
        (teams.get(row["case_id"]) or "(no team)", row.get("assignee") or "(unassigned)")
        for row in breaches
        if row.get("state") == "breached"
    )
    return [
        {"team": team, "assignee": person, "breached": count}
        for (team, person), count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
