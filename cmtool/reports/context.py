"""The report context: every figure and table a report template may show.

Pure: built from case facts, SLA clock states and provenance that the service
layer gathered. docs/reports.md lists every name; a template picks what it needs.
Contact details are masked here, before any template sees them, unless the
caller asked for PII.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cmtool.model.timefmt import parse_time
from cmtool.reports.anomaly import category_alerts
from cmtool.reports.facts import CaseFacts
from cmtool.reports.figures import rate
from cmtool.reports.kpis import EIGHT_WEEKS, BusinessCalendar, ClockLookup, period_kpis
from cmtool.reports.periods import Period
from cmtool.reports.safety import mask_contact, mask_name

TREND_PERIODS = 6
AGEING = (
    (0, 2, "0-2 days"),
    (3, 7, "3-7 days"),
    (8, 14, "8-14 days"),
    (15, 28, "15-28 days"),
    (29, 56, "29-56 days"),
    (57, None, "over 8 weeks"),
)
CASE_FIELDS = (
    "title",
    "status",
    "priority",
    "category",
    "channel",
    "customer",
    "contact",
    "customer_tier",
    "product",
    "region",
    "team",
    "assignee",
    "regimes",
    "tags",
    "filed_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "escalation_level",
    "root_cause",
    "resolution",
    "remedy",
    "redress",
    "upheld",
    "csat",
    "nps",
    "survey_comment",
    "surveyed_at",
    "description",
)
VOLUME_FIELDS = ("category", "channel", "region", "product", "team", "assignee", "priority")


@dataclass(frozen=True)
class Provenance:
    """Where the data and the rules came from, so a report can be reproduced."""

    data_commit: str | None
    data_commit_date: str | None
    data_dirty: bool
    rules_sha256: str
    template_sha256: str
    template: str  # which report folder (workspace or bundled)
    as_of: str | None = None  # what --as-of asked for, if anything


def build_context(
    name: str,
    title: str,
    facts: Sequence[CaseFacts],
    period: Period,
    as_at: datetime,
    calendar: BusinessCalendar,
    clocks: ClockLookup,
    provenance: Provenance,
    show_pii: bool,
    category_labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    end = min(period.end, as_at)
    kpis = period_kpis(facts, period, as_at, calendar, clocks)
    kpis["alerts"] = category_alerts(facts, period)
    received = [f for f in facts if period.start <= f.filed < end]
    open_end = [f for f in facts if f.filed < end and f.open_before(end)]
    report = {
        "name": name,
        "title": title,
        "period": period.to_dict(),
        "as_at": end.isoformat(),
        "timezone": str(period.zone),
        "pii_masked": not show_pii,
        "data_commit": provenance.data_commit,
        "data_commit_short": (provenance.data_commit or "")[:12] or None,
        "data_commit_date": provenance.data_commit_date,
        "data_dirty": provenance.data_dirty,
        "as_of": provenance.as_of,
        "rules_sha256": provenance.rules_sha256,
        "template_sha256": provenance.template_sha256,
        "template": provenance.template,
    }
    return {
        "report": report,
        "kpis": kpis,
        "summary_rows": summary_rows(kpis),
        "about_rows": [
            {"item": key, "value": "" if value is None else str(value)}
            for key, value in report.items()
            if key != "period"
        ],
        "volumes": {field: volumes(facts, field, period, end) for field in VOLUME_FIELDS},
        "category_labels": dict(category_labels or {}),
        "breaches": breaches(facts, clocks, period, end),
        "ageing": ageing(open_end, end),
        "oldest_open": [
            _case_row(f, show_pii, end) for f in sorted(open_end, key=lambda f: f.filed)[:10]
        ],
        "escalations": escalations(facts, period.start, end),
        "survey_scores": score_distribution(facts, period.start, end),
        "survey_comments": [
            {
                "case_id": f.id,
                "csat": f.get("csat"),
                "nps": f.get("nps"),
                "comment": f.get("survey_comment"),
            }
            for f in facts
            if f.get("survey_comment") and _between(f.get("surveyed_at"), period.start, end)
        ],
        "root_causes": _all_top(
            f.get("root_cause")
            for f in facts
            if f.closure_in(period.start, end) and f.get("root_cause")
        ),
        "trend": trend(facts, period, as_at, calendar, clocks),
        "fca": fca_return(facts, period, end, calendar),
        "cases": [_case_row(f, show_pii, end) for f in received],
    }


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


def volumes(facts: Sequence[CaseFacts], field: str, period: Period, end: datetime) -> list[dict]:
    """Received, closed and open-at-end counts per value of ``field``, biggest first."""
    counts: dict[str, Counter] = {}
    for fact in facts:
        key = str(fact.get(field, "(none)"))
        row = None
        if period.start <= fact.filed < end:
            row = counts.setdefault(key, Counter())
            row["received"] += 1
        if fact.closure_in(period.start, end):
            row = row or counts.setdefault(key, Counter())
            row["closed"] += 1
        if fact.filed < end and fact.open_before(end):
            (row or counts.setdefault(key, Counter()))["open_at_end"] += 1
    total = sum(c["received"] for c in counts.values())
    rows = [
        {
            "key": key,
            "received": c["received"],
            "closed": c["closed"],
            "open_at_end": c["open_at_end"],
            "share": rate(c["received"], total),
        }
        for key, c in counts.items()
    ]
    rows.sort(key=lambda r: (-r["received"], -r["closed"], r["key"]))
    return rows


def breaches(
    facts: Sequence[CaseFacts], clocks: ClockLookup, period: Period, end: datetime
) -> list[dict[str, Any]]:
    """Clocks missed in the period, and clocks still running past due at its end."""
    rows = []
    for fact in facts:
        for clock in clocks.get(fact.id, ()):
            stopped = _time(clock.stopped_at)
            missed = clock.state == "missed" and stopped and period.start <= stopped < end
            if (missed or clock.state == "breached") and not getattr(clock, "advisory", False):
                rows.append(
                    {
                        "case_id": fact.id,
                        "clock": clock.clock,
                        "state": clock.state,
                        "source": getattr(clock, "source", None),
                        "due_at": _time(clock.due_at),
                        "stopped_at": stopped,
                        "priority": fact.get("priority"),
                        "category": fact.get("category"),
                        "assignee": fact.get("assignee"),
                        "status": fact.get("status"),
                    }
                )
    rows.sort(key=lambda r: (r["due_at"] or end, r["case_id"], r["clock"]))
    return rows


def ageing(open_cases: Sequence[CaseFacts], end: datetime) -> list[dict[str, Any]]:
    buckets = Counter()
    for fact in open_cases:
        age = (end - fact.filed).days
        label = next(
            lab for low, high, lab in AGEING if age >= low and (high is None or age <= high)
        )
        buckets[label] += 1
    total = len(open_cases)
    return [
        {"bucket": label, "count": buckets[label], "share": rate(buckets[label], total)}
        for _, _, label in AGEING
    ]


def escalations(facts: Sequence[CaseFacts], start: datetime, end: datetime) -> list[dict]:
    rows = []
    for fact in facts:
        for moment in fact.escalations:
            if start <= moment < end:
                rows.append(
                    {
                        "case_id": fact.id,
                        "at": moment,
                        "level": fact.get("escalation_level"),
                        "assignee": fact.get("assignee"),
                        "category": fact.get("category"),
                        "priority": fact.get("priority"),
                        "status": fact.get("status"),
                    }
                )
    rows.sort(key=lambda r: (r["at"], r["case_id"]))
    return rows


def score_distribution(facts: Sequence[CaseFacts], start: datetime, end: datetime) -> list[dict]:
    answered = [f for f in facts if _between(f.get("surveyed_at"), start, end)]
    csat = Counter(f.get("csat") for f in answered if f.get("csat") is not None)
    return [
        {"score": score, "count": csat[score], "share": rate(csat[score], sum(csat.values()))}
        for score in range(1, 6)
    ]


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


def _case_row(fact: CaseFacts, show_pii: bool, end: datetime) -> dict[str, Any]:
    row: dict[str, Any] = {"id": fact.id}
    for name in CASE_FIELDS:
        row[name] = fact.state.get(name)
    if not show_pii:
        row["customer"] = mask_name(row["customer"])
        row["contact"] = mask_contact(row["contact"])
    row["filed"] = fact.filed
    row["age_days"] = (end - fact.filed).days
    row["first_response_hours"] = (
        round((fact.first_response - fact.filed).total_seconds() / 3600, 2)
        if fact.first_response
        else None
    )
    closure = fact.closures[-1] if fact.closures and not fact.open_before(end) else None
    row["closed"] = closure
    row["resolution_hours"] = (
        round((closure - fact.filed).total_seconds() / 3600, 2) if closure else None
    )
    row["escalated"] = fact.escalated
    row["reopened"] = bool(fact.reopens)
    return row


def _all_top(keys: Any) -> list[dict[str, Any]]:
    counts = Counter(keys)
    total = sum(counts.values())
    return [
        {"key": k, "count": n, "share": rate(n, total)}
        for k, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def _between(value: Any, start: datetime, end: datetime) -> bool:
    moment = _time(value)
    return moment is not None and start <= moment < end


def _time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return parse_time(value)
