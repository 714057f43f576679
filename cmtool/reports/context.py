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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cmtool.reports.anomaly import category_alerts
from cmtool.reports.facts import CaseFacts, Filing
from cmtool.reports.fca import fca_return
from cmtool.reports.figures import rate
from cmtool.reports.headline import reconciliation, summary_rows, trend
from cmtool.reports.kpis import BusinessCalendar, ClockLookup, period_kpis
from cmtool.reports.periods import Period
from cmtool.reports.safety import mask_contact, mask_name
from cmtool.reports.sections import (
    ageing,
    breaches,
    data_quality,
    escalations,
    in_window,
    score_distribution,
    volumes_by,
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
    firm: str = ""  # reporting.firm in rules.yaml
    classification: str = ""  # reporting.classification: the label printed on every page
    # what `audit verify` says about the history up to the data commit: commit,
    # findings, commits, since (a seal), text
    integrity: Mapping[str, Any] | None = None
    currency: str = ""  # the workspace's default currency


@dataclass(frozen=True)
class RegimeReturn:
    """Which regimes a regulator's return covers, and the currency it reports in."""

    regimes: tuple[str, ...]
    currency: str


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
    fca: RegimeReturn | None = None,
    language: str = "en",
    history: Sequence[CaseFacts | Filing] | None = None,
    details: Callable[[Sequence[CaseFacts]], Sequence[CaseFacts]] | None = None,
) -> dict[str, Any]:
    """``history``: as for ``kpis.period_kpis`` (default: ``facts``). ``details``:
    whole facts (every field of the state) of the cases a row is printed for, when
    ``facts`` hold only what KPIs count by."""
    end = period.until(as_at)
    history = facts if history is None else history
    whole = details or list
    kpis = period_kpis(facts, period, as_at, calendar, clocks, history=history)
    kpis["alerts"] = category_alerts(history, period, first_filing=first_filing)
    received = [f for f in facts if period.start <= f.filed < end]
    open_end = [f for f in facts if f.filed < end and f.open_before(end)]
    fca = fca or RegimeReturn(("fca_disp", "fca_disp_payments"), "GBP")
    report = {
        "name": name,
        "title": title,
        "language": language,
        "firm": provenance.firm,
        "classification": provenance.classification,
        "period": period.to_dict(),
        "provisional": kpis["provisional"],
        "as_at": kpis["as_at"],
        "timezone": str(period.zone),
        "currency": provenance.currency,
        "integrity": dict(provenance.integrity or {"text": "not checked", "verdict": "not checked"}),
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
        "summary_rows": summary_rows(kpis, language),
        "reconciliation": reconciliation(kpis, language),
        "about_rows": about_rows(report),
        "sign_off": SIGN_OFF,
        "data_quality": data_quality(facts, period, end),
        "volumes": volumes_by(facts, VOLUME_FIELDS, period, end),
        "category_labels": dict(category_labels or {}),
        "breaches": breaches(facts, clocks, period, end),
        "ageing": ageing(open_end, end),
        "oldest_open": [
            _case_row(f, show_pii, end) for f in whole(sorted(open_end, key=lambda f: f.filed)[:10])
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
            if f.get("survey_comment") and in_window(f.get("surveyed_at"), period.start, end)
        ],
        "root_causes": _all_top(
            f.get("root_cause") for f in facts if f.closure_in(period.start, end) and f.get("root_cause")
        ),
        "trend": trend(facts, period, as_at, calendar, clocks, _moment(first_filing), history, current=kpis),
        "fca": fca_return(facts, period, end, calendar, fca.regimes, fca.currency),
        "cases": CaseRows(received, lambda some: [_case_row(f, show_pii, end) for f in whole(some)]),
    }


class CaseRows(Sequence):
    """The rows of the cases a report lists, built when read, a chunk at a time: a
    template that only counts them builds none, and a sheet of a year's cases holds
    one chunk of whole cases in memory, not all of them. The last chunk built is
    kept, so readers going through the rows side by side build each once."""

    CHUNK = 500

    def __init__(self, facts: Sequence[CaseFacts], build: Callable[[Sequence[CaseFacts]], list]) -> None:
        self._facts = list(facts)
        self._build = build
        self._chunk: tuple[int, list] = (-1, [])

    def __len__(self) -> int:
        return len(self._facts)

    def _rows(self, number: int) -> list:
        if self._chunk[0] != number:
            start = number * self.CHUNK
            self._chunk = (number, self._build(self._facts[start : start + self.CHUNK]))
        return self._chunk[1]

    def __iter__(self) -> Any:
        for number in range((len(self._facts) + self.CHUNK - 1) // self.CHUNK):
            yield from self._rows(number)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._rows(index // self.CHUNK)[index % self.CHUNK]


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
    dated = closure if closure and fact.closure_dated(closure) else None
    row["closed"] = dated
    row["resolution_days"] = round((dated - fact.filed).total_seconds() / 86400, 2) if dated else None
    row["currency"] = fact.currency if row["redress"] else None
    row["escalated"] = fact.escalated
    row["reopened"] = bool(fact.reopens)
    return row


# The sign-off block every bundled report ends with: who prepared and who reviewed
# the figures, each with a date (filled in on paper or in the file).
SIGN_OFF = [
    {"role": "Prepared by", "name": "", "signature": "", "date": ""},
    {"role": "Reviewed by", "name": "", "signature": "", "date": ""},
]
ABOUT_LABELS = (
    ("title", "Report"),
    ("firm", "Firm"),
    ("classification", "Classification"),
    ("period_label", "Period"),
    ("period_span", "Period covers"),
    ("status", "Status"),
    ("as_at", "Figures as at"),
    ("timezone", "Time zone"),
    ("data_commit", "Data commit"),
    ("data_commit_date", "Data commit date"),
    ("data_dirty", "Uncommitted changes included"),
    ("as_of", "As of (--as-of)"),
    ("integrity", "Integrity (audit verify)"),
    ("rules_sha256", "rules.yaml sha256"),
    ("template_sha256", "Template sha256"),
    ("template", "Template folder"),
    ("currency", "Default currency"),
    ("pii_masked", "Customer details masked"),
)


def about_rows(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The provenance with human labels and values (yes/no, not True/False)."""
    period = report["period"]
    values = {
        **report,
        "period_label": period["label"],
        "period_span": f"{period['first_day']} to {period['last_day']}",
        "status": "provisional: the period is still running" if report["provisional"] else "final",
    }
    rows = []
    for key, label in ABOUT_LABELS:
        value = values.get(key)
        if isinstance(value, bool):
            value = "yes" if value else "no"
        elif isinstance(value, Mapping):
            value = value.get("text")
        rows.append({"item": label, "value": "" if value is None else str(value)})
    return rows


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _all_top(keys: Any) -> list[dict[str, Any]]:
    counts = Counter(keys)
    total = sum(counts.values())
    return [
        {"key": k, "count": n, "share": rate(n, total)}
        for k, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
