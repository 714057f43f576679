"""The FCA complaints return (DISP 1 Annex 1R) as far as case data can fill it.

Only cases under an FCA regime count, and only redress in that regime's currency
is added up (redress recorded in another currency is counted and named, never
converted). Rows are the cases' product values; the figures per row reconcile:
outstanding at start + opened + reopened - closed = outstanding at end, and the
closed split (within 3 business days / after, within 8 weeks / after 8 weeks /
close date unknown) adds up to closed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cmtool.reports.facts import CaseFacts
from cmtool.reports.figures import rate
from cmtool.reports.kpis import EIGHT_WEEKS, BusinessCalendar
from cmtool.reports.movements import movements
from cmtool.reports.periods import Period

COUNTS = (
    "outstanding_at_start",
    "opened",
    "reopened",
    "closed",
    "closed_within_3_business_days",
    "closed_within_8_weeks",
    "closed_after_8_weeks",
    "closed_date_unknown",
    "upheld",
    "upheld_known",
    "outstanding_at_end",
)
# Parts of DISP 1 Annex 1R that case files do not hold, and why.
UNFILLED = (
    (
        "Product/service groupings",
        "rows are the cases' own product values; map them to the FCA groupings "
        "(current accounts, credit cards, mortgages...) in the template",
    ),
    (
        "Main cause of complaint",
        "the return's cause categories are not recorded; root causes are the team's own",
    ),
    ("Contextualisation (business volumes)", "accounts, policies and sales are not in the case data"),
    ("Group reporting (other firms' FRNs)", "the workspace holds one firm's complaints"),
    ("Complaints referred to the Financial Ombudsman", "referrals are not recorded in the case data"),
)


def fca_return(
    facts: Sequence[CaseFacts],
    period: Period,
    end: datetime,
    calendar: BusinessCalendar,
    regimes: Sequence[str] = ("fca_disp", "fca_disp_payments"),
    currency: str = "GBP",
) -> dict[str, Any]:
    """The return over the cases that carry one of ``regimes``."""
    wanted = set(regimes)
    groups: dict[str, list[CaseFacts]] = {}
    for fact in facts:
        if wanted.intersection(fact.get("regimes") or ()):
            groups.setdefault(str(fact.get("product", "(none)")), []).append(fact)
    rows = []
    other_currency: Counter = Counter()
    for key, members in sorted(groups.items()):
        flows = movements(members, period.start, end)
        counts = Counter(
            outstanding_at_start=flows["open_at_start"],
            opened=flows["received"],
            reopened=flows["reopened_in_period"],
            closed=flows["closed"],
            outstanding_at_end=flows["open_at_end"],
        )
        redress = 0.0
        for fact in members:
            closures = fact.closures_in(period.start, end)
            for closure in closures:
                counts[_timing(fact, closure, calendar)] += 1
                if isinstance(fact.get("upheld"), bool):
                    counts["upheld_known"] += 1
                    counts["upheld"] += fact.get("upheld") is True
            amount = fact.get("redress")
            if closures and isinstance(amount, (int, float)) and not isinstance(amount, bool) and amount:
                if fact.currency == currency:
                    redress += float(amount)  # a case's redress once, however often it closed
                else:
                    other_currency[fact.currency or "(none)"] += 1
        if not any(counts[name] for name in COUNTS):
            continue
        row = {"product": key, **{n: counts[n] for n in COUNTS}}
        row["upheld_rate"] = rate(row["upheld"], row["upheld_known"])
        row["redress_paid"] = round(redress, 2)
        rows.append(row)
    totals: dict[str, Any] = {n: sum(r[n] for r in rows) for n in COUNTS}
    totals["upheld_rate"] = rate(totals["upheld"], totals["upheld_known"])
    totals["redress_paid"] = round(sum(r["redress_paid"] for r in rows), 2)
    return {
        "regimes": sorted(wanted),
        "currency": currency,
        "rows": rows,
        "totals": {"product": "Total", **totals},
        "redress_other_currencies": [
            {"currency": code, "cases": n} for code, n in sorted(other_currency.items())
        ],
        "unfilled": [{"cell": cell, "reason": reason} for cell, reason in UNFILLED],
    }


def _timing(fact: CaseFacts, closure: datetime, calendar: BusinessCalendar) -> str:
    if not fact.closure_dated(closure):
        return "closed_date_unknown"
    if closure <= calendar.business_day_end(fact.filed, 3):
        return "closed_within_3_business_days"
    if closure - fact.filed <= EIGHT_WEEKS:
        return "closed_within_8_weeks"
    return "closed_after_8_weeks"
