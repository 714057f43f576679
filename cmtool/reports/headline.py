"""The headline figures of a report: the KPI summary rows (with their Excel number
formats) and the trend against the periods before."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from cmtool.reports.facts import CaseFacts
from cmtool.reports.figures import rate
from cmtool.reports.kpis import BusinessCalendar, ClockLookup, period_kpis
from cmtool.reports.periods import Period

TREND_PERIODS = 6
COUNT, RATE, NUMBER = "#,##0", "0.0%", "#,##0.0"


def summary_rows(kpis: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The headline KPIs as (measure, value, note, number format) rows for a sheet.
    Times are in the units the Markdown reports use: first response in hours,
    resolution in days."""
    k = kpis
    rows = [
        ("Open at start of period", k["open_at_start"], COUNT, ""),
        ("Received in period", k["received"], COUNT, ""),
        ("Reopened in period", k["reopened_in_period"], COUNT, ""),
        ("Closed in period", k["closed"], COUNT, f"closures, of {k['closed_cases']} cases"),
        ("Open at end of period", k["open_at_end"], COUNT, reconciliation(k)),
    ]
    for key, label, scale in (
        ("first_response_hours", "First response (hours)", 1),
        ("first_response_business_hours", "First response (business hours)", 1),
        ("resolution_hours", "Resolution (days)", 24),
        ("resolution_business_hours", "Resolution (business hours)", 1),
    ):
        unknown = k["first_response_unknown"] if key.startswith("first") else k["resolution_unknown"]
        note = f"{k[key]['count']} known" + (f", {unknown} unknown left out" if unknown else "")
        for stat in ("median", "mean", "p90"):
            value = k[key][stat]
            rows.append((f"{label}, {stat}", None if value is None else value / scale, NUMBER, note))
    for key, label in RATES:
        rows.append((label, k[key]["rate"], RATE, known_note(k[key], "closures")))
    for clock in k["sla"]:
        rows.append(
            (
                f"SLA compliance: {clock['clock']}",
                clock["compliance"],
                RATE,
                f"{clock['met']} met, {clock['missed']} missed",
            )
        )
    surveys = k["surveys"]
    rows += [
        (
            "CSAT average (1-5)",
            surveys["csat_average"],
            "0.00",
            f"{surveys['csat_responses']} answers",
        ),
        ("Survey response rate", surveys["response_rate"], RATE, "closures of answered cases"),
        ("NPS", surveys["nps"], "0.0", f"{surveys['nps_responses']} answers"),
        (
            "Repeat complaints",
            k["repeat_complaints"]["count"],
            COUNT,
            "same customer within 90 days",
        ),
    ]
    for money in k["redress"] or [{"currency": "", "amount": 0, "cases": 0}]:
        code = money["currency"]
        rows.append(
            (
                f"Redress paid ({code})" if code else "Redress paid",
                money["amount"],
                f'#,##0.00 "{code}"' if code else "#,##0.00",
                f"{money['cases']} cases",
            )
        )
    return [{"measure": m, "value": v, "format": f, "note": n} for m, v, f, n in rows]


RATES = (
    ("closed_within_3_business_days", "Closed within 3 business days"),
    ("closed_within_8_weeks", "Closed within 8 weeks"),
    ("escalated", "Escalation rate"),
    ("reopened", "Reopen rate"),
    ("first_contact_resolution", "First-contact resolution"),
    ("upheld", "Upheld"),
)


def reconciliation(k: Mapping[str, Any]) -> str:
    """The line that shows the period's figures add up."""
    return (
        f"{k['open_at_start']} open at start + {k['received']} received"
        f" + {k['reopened_in_period']} reopened - {k['closed']} closed = {k['open_at_end']} open at end"
    )


def known_note(figure: Mapping[str, Any], of: str) -> str:
    """ "3 of 15 known closures (2 unknown left out)"."""
    note = f"{figure['count']} of {figure['known']} {of}"
    return note + (f" ({figure['unknown']} unknown, left out)" if figure["unknown"] else "")


def trend(
    facts: Sequence[CaseFacts],
    period: Period,
    as_at: datetime,
    calendar: BusinessCalendar,
    clocks: ClockLookup,
    first_filing: datetime | None = None,
) -> list[dict[str, Any]]:
    """The headline figures of this period and the ones before it, oldest first.
    A period that ended before the first case ever filed has no data: its figures
    are None (shown "no data"), not zero."""
    if first_filing is None and facts:
        first_filing = min(f.filed for f in facts)
    rows = []
    for past in [*period.previous(TREND_PERIODS), period]:
        if past.start >= as_at:
            continue
        if first_filing is None or past.end <= first_filing:
            rows.append({"period": past.label, "no_data": True, **dict.fromkeys(TREND_FIGURES)})
            continue
        kpis = period_kpis(facts, past, as_at, calendar, clocks)
        met = sum(c["met"] for c in kpis["sla"])
        missed = sum(c["missed"] for c in kpis["sla"])
        rows.append(
            {
                "period": past.label,
                "no_data": False,
                "open_at_start": kpis["open_at_start"],
                "received": kpis["received"],
                "reopened": kpis["reopened_in_period"],
                "closed": kpis["closed"],
                "open_at_end": kpis["open_at_end"],
                "sla_compliance": rate(met, met + missed),
                "within_8_weeks": kpis["closed_within_8_weeks"]["rate"],
                "median_resolution_days": _days(kpis["resolution_hours"]["median"]),
                "median_resolution_hours": kpis["resolution_hours"]["median"],
                "csat_average": kpis["surveys"]["csat_average"],
            }
        )
    return rows


TREND_FIGURES = (
    "open_at_start",
    "received",
    "reopened",
    "closed",
    "open_at_end",
    "sla_compliance",
    "within_8_weeks",
    "median_resolution_days",
    "median_resolution_hours",
    "csat_average",
)


def _days(hours: float | None) -> float | None:
    return None if hours is None else round(hours / 24, 2)
