"""The headline figures of a report: the KPI summary rows (with their Excel number
formats) and the trend against the periods before."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from cmtool.reports.facts import CaseFacts, Filing
from cmtool.reports.figures import rate
from cmtool.reports.kpis import BusinessCalendar, ClockLookup, period_kpis
from cmtool.reports.movements import movements_of
from cmtool.reports.periods import Period
from cmtool.reports.wording import say, wording

TREND_PERIODS = 6
COUNT, RATE, NUMBER = "#,##0", "0.0%", "#,##0.0"


def summary_rows(kpis: Mapping[str, Any], language: str = "en") -> list[dict[str, Any]]:
    """The headline KPIs as rows for a sheet: ``key`` (stable), ``measure`` (named in
    ``language``), ``value``, ``format`` and ``note``. Times are in the units the
    Markdown reports use: first response in hours, resolution in days."""
    k, w = kpis, wording(language)
    rows = [(name, w[name], k[name], COUNT, "") for name in FLOW_ROWS]
    rows[3] = (*rows[3][:4], say(w, "closures_of_cases", cases=k["closed_cases"]))
    rows[4] = (*rows[4][:4], reconciliation(k, language))
    for key, scale in TIMES:
        unknown = k["first_response_unknown"] if key.startswith("first") else k["resolution_unknown"]
        note = say(w, "known", count=k[key]["count"])
        note += say(w, "unknown_left_out", count=unknown) if unknown else ""
        for stat in ("median", "mean", "p90"):
            value = k[key][stat]
            figure = None if value is None else value / scale
            rows.append((f"{key}.{stat}", f"{w[key]}, {w[stat]}", figure, NUMBER, note))
    for key in RATES:
        share = k[key]
        note = say(w, "of_known", count=share["count"], known=share["known"])
        note += say(w, "unknown_paren", count=share["unknown"]) if share["unknown"] else ""
        rows.append((key, w[key], share["rate"], RATE, note))
    for clock in k["sla"]:
        note = say(w, "met_missed", met=clock["met"], missed=clock["missed"])
        rows.append(
            (f"sla.{clock['clock']}", say(w, "sla", clock=clock["clock"]), clock["compliance"], RATE, note)
        )
    surveys = k["surveys"]
    rows += [
        (
            "csat_average",
            w["csat_average"],
            surveys["csat_average"],
            "0.00",
            say(w, "answers", count=surveys["csat_responses"]),
        ),
        ("response_rate", w["response_rate"], surveys["response_rate"], RATE, w["answered_closures"]),
        ("nps", w["nps"], surveys["nps"], "0.0", say(w, "answers", count=surveys["nps_responses"])),
        (
            "repeat_complaints",
            w["repeat_complaints"],
            k["repeat_complaints"]["count"],
            COUNT,
            w["same_customer"],
        ),
    ]
    for money in k["redress"] or [{"currency": "", "amount": 0, "cases": 0}]:
        code = money["currency"]
        rows.append(
            (
                f"redress.{code}",
                say(w, "redress", currency=code) if code else w["redress_none"],
                money["amount"],
                f'#,##0.00 "{code}"' if code else "#,##0.00",
                say(w, "cases", count=money["cases"]),
            )
        )
    return [{"key": key, "measure": m, "value": v, "format": f, "note": n} for key, m, v, f, n in rows]


FLOW_ROWS = ("open_at_start", "received", "reopened_in_period", "closed", "open_at_end")
TIMES = (
    ("first_response_hours", 1),
    ("first_response_business_hours", 1),
    ("resolution_hours", 24),
    ("resolution_business_hours", 1),
)
RATES = (
    "closed_within_3_business_days",
    "closed_within_8_weeks",
    "escalated",
    "reopened",
    "first_contact_resolution",
    "upheld",
)


def reconciliation(k: Mapping[str, Any], language: str = "en") -> str:
    """The line that shows the period's figures add up."""
    return say(
        wording(language),
        "reconciliation",
        start=k["open_at_start"],
        received=k["received"],
        reopened=k["reopened_in_period"],
        closed=k["closed"],
        end=k["open_at_end"],
    )


def trend(
    facts: Sequence[CaseFacts],
    period: Period,
    as_at: datetime,
    calendar: BusinessCalendar,
    clocks: ClockLookup,
    first_filing: datetime | None = None,
    history: Sequence[CaseFacts | Filing] | None = None,
    current: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The headline figures of this period and the ones before it, oldest first.
    A period that ended before the first case ever filed has no data: its figures
    are None (shown "no data"), not zero. ``current``: the KPIs of ``period`` when
    the caller has them already."""
    if first_filing is None and facts:
        first_filing = min(f.filed for f in facts)
    shown = [past for past in [*period.previous(TREND_PERIODS), period] if past.start < as_at]
    counted = [p for p in shown if first_filing is not None and p.end > first_filing]
    # The periods' movements in one pass over the facts, not one pass each.
    flows = dict(zip(counted, movements_of(facts, [(p.start, p.until(as_at)) for p in counted]), strict=True))
    rows = []
    for past in shown:
        if past not in flows:
            rows.append({"period": past.label, "no_data": True, **dict.fromkeys(TREND_FIGURES)})
            continue
        if past == period and current is not None:
            kpis = current
        else:
            kpis = period_kpis(facts, past, as_at, calendar, clocks, history=history, flows=flows[past])
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
