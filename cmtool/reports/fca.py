"""The FCA DISP-style return: complaint figures per product group for a period."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cmtool.reports.facts import CaseFacts
from cmtool.reports.figures import rate
from cmtool.reports.kpis import EIGHT_WEEKS, BusinessCalendar
from cmtool.reports.periods import Period


def fca_return(
    facts: Sequence[CaseFacts], period: Period, end: datetime, calendar: BusinessCalendar
) -> dict[str, Any]:
    """DISP 1.10-style figures per product group: opened, closed (within 3 business
    days / within 8 weeks / later), upheld, redress paid, outstanding."""
    groups: dict[str, Counter] = {}
    redress: dict[str, float] = {}
    for fact in facts:
        key = str(fact.get("product", "(none)"))
        counts = groups.setdefault(key, Counter())
        if fact.filed < period.start and fact.open_before(period.start):
            counts["outstanding_at_start"] += 1
        if period.start <= fact.filed < end:
            counts["opened"] += 1
        closure = fact.closure_in(period.start, end)
        if closure:
            counts["closed"] += 1
            if closure <= calendar.business_day_end(fact.filed, 3):
                counts["closed_within_3_business_days"] += 1
            elif closure - fact.filed <= EIGHT_WEEKS:
                counts["closed_within_8_weeks"] += 1
            else:
                counts["closed_after_8_weeks"] += 1
            if fact.get("upheld") is True:
                counts["upheld"] += 1
            redress[key] = redress.get(key, 0.0) + float(fact.get("redress", 0))
        if fact.filed < end and fact.open_before(end):
            counts["outstanding_at_end"] += 1
    names = (
        "outstanding_at_start",
        "opened",
        "closed",
        "closed_within_3_business_days",
        "closed_within_8_weeks",
        "closed_after_8_weeks",
        "upheld",
        "outstanding_at_end",
    )
    rows = []
    for key, counts in sorted(groups.items()):
        if not any(counts.values()):
            continue
        row = {
            "product": key,
            **{n: counts[n] for n in names},
            "upheld_rate": rate(counts["upheld"], counts["closed"]),
            "redress_paid": round(redress.get(key, 0.0), 2),
        }
        rows.append(row)
    totals = {n: sum(r[n] for r in rows) for n in names}
    totals["upheld_rate"] = rate(totals["upheld"], totals["closed"])
    totals["redress_paid"] = round(sum(r["redress_paid"] for r in rows), 2)
    return {"rows": rows, "totals": {"product": "Total", **totals}}
