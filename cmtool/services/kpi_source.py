"""The case facts and SLA clocks a period's KPIs count from, read from the index.

``stats``, every report and the dashboard count from ``CaseFacts`` and clock
states (``reports.kpis`` is the one definition of each figure). Computing them
from every case file on every run is what made a monthly report at 100,000
cases slow; here they come from records the index keeps per case file and rules
(``store.kpifacts``, made by ``reports.kpifacts.record_of``), derived again only
when the file or the rules that matter change. A case is built from its file
only where a record cannot say the answer: a period that ended before the case's
last event (the case as it stood then is derived once and kept too), a pause
still going on (its due moments move with time), and the rows a report prints.

Use :func:`kpi_inputs`; ``--as-of`` reads a past commit and counts from its
cases in full (``reporting.facts_at``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from cmtool.model.case import Case
from cmtool.model.enums import OPEN_STATUSES
from cmtool.reports.facts import CaseFacts, Filing, case_facts, truncate
from cmtool.reports.kpifacts import (
    ClockAt,
    clocks_of,
    exact_at,
    record_clocks,
    record_facts,
    record_of,
    summary_of,
    upto,
)
from cmtool.rules.model import Rules
from cmtool.services.codeversion import code_version
from cmtool.services.links import counts_as_complaint
from cmtool.sla.clocks import case_clocks
from cmtool.store import fastjson, index, indexqueries, kpifacts
from cmtool.store.workspace import Workspace

OPEN = tuple(s.value for s in OPEN_STATUSES)
# rules.yaml sections no KPI fact depends on (keywords, routing, people, surveys,
# notifications, warning shares...): editing them keeps the records.
NOT_FACTS = frozenset(
    {
        "version",
        "categories",
        "priority_rules",
        "roles",
        "people",
        "audit",
        "teams",
        "routing",
        "escalation",
        "survey",
        "privacy",
        "views",
        "attachments",
        "intake",
        "notifications",
    }
)
Progress = Callable[[str, int], Callable[[int], None]]


@dataclass
class KpiInputs:
    """What ``reports.kpis`` and the report context count from, at ``as_at``.

    ``facts``: every complaint that can count from ``active_since`` on, as it stood
    at ``as_at``, in ID order (its state holds what KPIs group and count by, not
    free text or contact details: ``details`` gives whole facts for the rows a
    report prints). ``history``: ``facts`` and every other complaint changed since
    ``history_since``, as repeat complaints and category alerts read them.
    ``clocks``: case ID -> its SLA clocks at ``as_at``, for the facts that can count
    from ``clocks_since`` on. ``first_filing``: the workspace's first ``filed_at``.
    """

    facts: list[CaseFacts]
    history: list[CaseFacts | Filing]
    clocks: dict[str, list[ClockAt]]
    details: Callable[[Sequence[CaseFacts]], list[CaseFacts]] = field(repr=False)
    first_filing: str | None = None


def facts_key(ws_rules: Rules) -> str:
    """What records depend on besides the case file: the rules.yaml sections that
    can change a fact or a clock, and the code that derives them."""
    raw = ws_rules.raw if isinstance(ws_rules.raw, Mapping) else {}
    kept = {str(k): v for k, v in raw.items() if k not in NOT_FACTS}
    text = json.dumps(kept, sort_keys=True, default=_plain, ensure_ascii=False)
    return hashlib.sha256(
        (text + code_version("calendar.py", "reports/facts.py", "reports/kpifacts.py")).encode("utf-8")
    ).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    return str(value)


def _derived(case: Case, rules: Rules) -> kpifacts.Derived:
    record = record_of(case, rules)
    columns = summary_of(record)
    columns["complaint"] = counts_as_complaint(case.state)
    return kpifacts.Derived(record, columns)


def kpi_inputs(
    ws: Workspace,
    rules: Rules,
    as_at: datetime,
    active_since: datetime,
    history_since: datetime,
    clocks_since: datetime,
    progress: Progress | None = None,
) -> KpiInputs:
    """The facts, history and clocks of the complaints open now or changed since
    ``min(active_since, history_since)`` (broken case files are skipped: the
    caller names them with ``catalog.broken_files``)."""
    conn, _ = index.refresh(ws)
    key = facts_key(rules)
    since = min(active_since, history_since)
    kpifacts.refresh(conn, key, since, OPEN, lambda case: _derived(case, rules))
    rows = list(kpifacts.select(conn, key, since, OPEN, as_at, active_since))
    advance = progress("reading cases", len(rows)) if progress else None
    stamp = as_at.timestamp()
    paths = {row.id: row.path for row in rows}

    # The record each case is read from: its own, or that of the case as it stood at
    # as_at (kept by the number of events standing then), or None: build the case.
    chosen: dict[str, dict[str, Any] | None] = {}
    wanted: dict[str, int] = {}
    history: list[CaseFacts | Filing] = []
    for row in rows:
        if row.record is None:
            filed = datetime.fromtimestamp(row.filed, timezone.utc)
            history.append(Filing(row.id, filed, row.customer, row.category))
        elif row.last_at <= stamp:
            chosen[row.id] = row.record
        else:
            count = upto(row.record, as_at)
            chosen[row.id] = None
            if count is not None:
                wanted[row.id] = count
    if wanted:
        found = kpifacts.kept(conn, key, ((paths[i], n) for i, n in wanted.items()))
        chosen.update({i: found[(paths[i], n)] for i, n in wanted.items() if (paths[i], n) in found})

    # Cases whose answer needs the case itself: no record at as_at yet, or moving.
    def needs_case(case_id: str) -> bool:
        record = chosen[case_id]
        return record is None or record["moving"]

    built = _cases(conn, [paths[i] for i in chosen if needs_case(i)])
    new_records = []
    facts: list[CaseFacts] = []
    clocks: dict[str, list[ClockAt]] = {}
    for case_id, record in chosen.items():
        if advance:
            advance(1)
        past: Case | None = None
        if needs_case(case_id):
            blob, case = built[paths[case_id]]
            past = truncate(case, as_at)
            if past is None:
                continue
            if record is None:
                derived = _derived(past, rules)
                record = derived.record
                if case_id in wanted:
                    new_records.append((paths[case_id], blob, wanted[case_id], derived))
        fact = record_facts(record, case_id)
        facts.append(fact)
        if fact.active_during(clocks_since, as_at):
            if past is not None and not exact_at(record, as_at):
                clocks[case_id] = clocks_of(case_clocks(past, rules, as_at))
            else:
                clocks[case_id] = record_clocks(record, case_id, as_at)
    if new_records:
        kpifacts.store(conn, key, new_records)
    if advance:
        advance(len(rows) - len(chosen))
    history.extend(facts)
    details = lambda some: _details(conn, paths, rules, as_at, some)  # noqa: E731
    return KpiInputs(facts, history, clocks, details, indexqueries.first_filing(ws, conn))


def _cases(conn: Any, paths: list[str]) -> dict[str, tuple[str, Case]]:
    found = kpifacts.payloads(conn, paths)
    return {path: (blob, fastjson.case_of(data)) for path, (blob, data) in found.items()}


def _details(
    conn: Any, paths: dict[str, str], rules: Rules, as_at: datetime, some: Sequence[CaseFacts]
) -> list[CaseFacts]:
    """Whole facts (every field of the state) of ``some``, for the rows a report prints."""
    built = _cases(conn, [paths[f.id] for f in some])
    out = []
    for fact in some:
        past = truncate(built[paths[fact.id]][1], as_at)
        out.append(case_facts(past, rules.currency_for(past.state)) if past is not None else fact)
    return out
