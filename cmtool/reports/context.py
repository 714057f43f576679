"""The report context: every figure and table a report template may show.

Pure: built from case facts, SLA clock states and provenance that the service
layer gathered. The figures come from ``headline`` (summary rows, trend),
``sections`` (volumes, breaches, ageing, escalations, surveys) and ``fca`` (the
DISP return); this module assembles them with the provenance and the case rows.
docs/reports.md lists every name; a template picks what it needs. Contact details
are masked here, before any template sees them, unless the caller asked for PII.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cmtool.reports.anomaly import category_alerts
from cmtool.reports.facts import CaseFacts
from cmtool.reports.fca import fca_return
from cmtool.reports.figures import rate
from cmtool.reports.headline import summary_rows, trend
from cmtool.reports.kpis import BusinessCalendar, ClockLookup, period_kpis
from cmtool.reports.periods import Period
from cmtool.reports.safety import mask_contact, mask_name
from cmtool.reports.sections import ageing, breaches, escalations, in_window, score_distribution, volumes

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
    first_filing: str | None = None,
) -> dict[str, Any]:
    end = min(period.end, as_at)
    kpis = period_kpis(facts, period, as_at, calendar, clocks)
    kpis["alerts"] = category_alerts(facts, period, first_filing=first_filing)
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
        "oldest_open": [_case_row(f, show_pii, end) for f in sorted(open_end, key=lambda f: f.filed)[:10]],
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
            if f.get("survey_comment") and in_window(f.get("surveyed_at"), period.start, end)
        ],
        "root_causes": _all_top(
            f.get("root_cause") for f in facts if f.closure_in(period.start, end) and f.get("root_cause")
        ),
        "trend": trend(facts, period, as_at, calendar, clocks),
        "fca": fca_return(facts, period, end, calendar),
        "cases": [_case_row(f, show_pii, end) for f in received],
    }


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
        round((fact.first_response - fact.filed).total_seconds() / 3600, 2) if fact.first_response else None
    )
    closure = fact.closures[-1] if fact.closures and not fact.open_before(end) else None
    row["closed"] = closure
    row["resolution_hours"] = round((closure - fact.filed).total_seconds() / 3600, 2) if closure else None
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
