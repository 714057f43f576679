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
    """The headline KPIs as (measure, value, note, number format) rows for a sheet."""
    k = kpis
    rows = [
        ("Complaints received", k["received"], COUNT, ""),
        ("Open at start of period", k["open_at_start"], COUNT, ""),
        ("Closed in period", k["closed"], COUNT, ""),
        ("Open at end of period", k["open_at_end"], COUNT, ""),
    ]
    for key, label in (
        ("first_response_hours", "First response (hours)"),
        ("first_response_business_hours", "First response (business hours)"),
        ("resolution_hours", "Resolution (hours)"),
        ("resolution_business_hours", "Resolution (business hours)"),
    ):
        for stat in ("median", "mean", "p90"):
            rows.append((f"{label}, {stat}", k[key][stat], NUMBER, f"{k[key]['count']} cases"))
    for key, label in (
        ("closed_within_3_business_days", "Closed within 3 business days"),
        ("closed_within_8_weeks", "Closed within 8 weeks"),
        ("escalated", "Escalation rate"),
        ("reopened", "Reopen rate"),
        ("first_contact_resolution", "First-contact resolution"),
        ("upheld", "Upheld"),
    ):
        rows.append((label, k[key]["rate"], RATE, f"{k[key]['count']} of {k['closed']} closed"))
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
        ("Survey response rate", surveys["response_rate"], RATE, "closed cases answered"),
        ("NPS", surveys["nps"], "0.0", f"{surveys['nps_responses']} answers"),
        (
            "Repeat complaints",
            k["repeat_complaints"]["count"],
            COUNT,
            "same customer within 90 days",
        ),
        ("Redress paid", k["redress_total"], "#,##0.00", ""),
    ]
    return [{"measure": m, "value": v, "format": f, "note": n} for m, v, f, n in rows]


def trend(
    facts: Sequence[CaseFacts],
    period: Period,
    as_at: datetime,
    calendar: BusinessCalendar,
    clocks: ClockLookup,
) -> list[dict[str, Any]]:
    """The headline figures of this period and the ones before it, oldest first."""
    rows = []
    for past in [*period.previous(TREND_PERIODS), period]:
        if past.start >= as_at:
            continue
        kpis = period_kpis(facts, past, as_at, calendar, clocks)
        met = sum(c["met"] for c in kpis["sla"])
        missed = sum(c["missed"] for c in kpis["sla"])
        rows.append(
            {
                "period": past.label,
                "received": kpis["received"],
                "closed": kpis["closed"],
                "open_at_end": kpis["open_at_end"],
                "sla_compliance": rate(met, met + missed),
                "within_8_weeks": kpis["closed_within_8_weeks"]["rate"],
                "median_resolution_hours": kpis["resolution_hours"]["median"],
                "csat_average": kpis["surveys"]["csat_average"],
            }
        )
    return rows
