"""`cmtool stats` and `cmtool report`: gather cases, rules, SLA clocks and
provenance, then hand them to the pure KPI and report builders."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cmtool.errors import UsageError
from cmtool.model.case import Case
from cmtool.model.timefmt import format_time
from cmtool.reports.anomaly import HISTORY_PERIODS
from cmtool.reports.context import Provenance, RegimeReturn, build_context
from cmtool.reports.dashboard import overdue_board, weekly_flow
from cmtool.reports.facts import GROUP_FIELDS, CaseFacts, case_facts, truncate
from cmtool.reports.headline import TREND_PERIODS
from cmtool.reports.kpis import REPEAT_WINDOW, group_kpis, period_kpis
from cmtool.reports.library import FORMATS, ReportTemplate, find_report, list_reports
from cmtool.reports.periods import Period, current_period, last_complete_period, parse_period
from cmtool.reports.timing import KpiCalendar
from cmtool.rules.loader import rules_from_text
from cmtool.rules.model import Rules
from cmtool.services.kpi_source import KpiInputs, kpi_inputs
from cmtool.services.links import counts_as_complaint
from cmtool.store import git as gitops
from cmtool.store.catalog import all_cases
from cmtool.store.workspace import Workspace

BY_FIELDS = ("category", "channel", "team", "assignee", "region", "product")
Progress = Callable[[str, int], Callable[[int], None]]  # (label, total) -> advance(n)


@dataclass(frozen=True)
class Snapshot:
    """The data a report is computed from, and where it came from."""

    cases: list[Case]
    rules: Rules
    rules_text: str
    commit: str | None
    commit_date: str | None
    dirty: bool
    as_of: str | None
    moment: datetime | None = None  # with as_of: the moment it stands for


def snapshot(
    ws: Workspace, as_of: str | None = None, with_cases: bool = True, provenance: bool = True
) -> Snapshot:
    """The work tree's cases and rules, or (``as_of``) those of a past commit.
    ``with_cases=False`` leaves the work tree's cases to :func:`kpi_inputs_for`;
    ``provenance=False`` skips the commit date and the check for uncommitted changes
    (a scan of every file at 100,000 cases) where nothing prints them."""
    if as_of:
        from cmtool.services.asof import cases_as_of, past_view

        view = past_view(ws, as_of)
        cases = complaints(cases_as_of(ws, view.commit))
        return Snapshot(
            cases, view.rules, view.rules_text, view.commit, view.commit_date, False, as_of, view.moment
        )
    text = ws.rules_path.read_text(encoding="utf-8") if ws.rules_path.exists() else ""
    commit = gitops.head(ws.root)
    date = dirty = None
    if provenance:
        date = gitops.git(ws.root, "show", "-s", "--format=%cI", commit).strip() if commit else None
        dirty = bool(gitops.git(ws.root, "status", "--porcelain", "--", "cases", "rules.yaml").strip())
    cases = complaints(all_cases(ws, skip_broken=True)) if with_cases else []
    rules = rules_from_text(text, "rules.yaml", ws.root)
    return Snapshot(cases, rules, text, commit, date, bool(dirty), None)


def complaints(cases: list[Case]) -> list[Case]:
    """The cases figures count: a duplicate (``cmtool link A B --as duplicate``) is
    the same complaint again, counted once, as the case it duplicates."""
    return [case for case in cases if counts_as_complaint(case.state)]


def kpi_calendar(rules: Rules, now: datetime) -> KpiCalendar:
    """The calendar KPIs count business time on: the SLA default calendar
    (``sla.calendar``), else the first calendar, else office hours in UTC."""
    specs = rules.calendars.specs
    sla = rules.raw.get("sla")  # the checked rules' raw sections are read-only mappings
    default = sla.get("calendar") if isinstance(sla, Mapping) else None
    name = default if default in specs else next(iter(specs), None)
    if name is None:
        return KpiCalendar.fallback(getattr(now.tzinfo, "key", None) or "UTC")
    return KpiCalendar(rules.calendars.get(name))


def choose_period(
    text: str | None, kind: str, calendar: KpiCalendar, now: datetime, complete: bool
) -> Period:
    local_now = now.astimezone(calendar.zone)
    if text:
        return parse_period(text, calendar.zone)
    return last_complete_period(kind, local_now) if complete else current_period(kind, local_now)


def clock_states(
    cases: list[Case], facts: list[Any], rules: Rules, as_at: datetime, since: datetime
) -> dict[str, list[Any]]:
    """The SLA clocks at ``as_at`` of every case that can count from ``since`` on
    (cases closed and quiet before it cannot: skipping them is most of the time)."""
    from cmtool.sla.clocks import case_clocks

    return {
        case.id: list(case_clocks(case, rules, as_at))
        for case, fact in zip(cases, facts, strict=True)
        if fact.active_during(since, as_at)
    }


def kpi_inputs_for(
    ws: Workspace,
    data: Snapshot,
    period: Period,
    as_at: datetime,
    clocks_since: datetime,
    wide: bool,
    progress: Progress | None = None,
) -> tuple[KpiInputs, str | None]:
    """What the KPIs of ``period`` count from, and the workspace's first filing.

    From the index's KPI facts (``kpi_source``), of the cases open now or changed
    since the look-back start: the trend and alert periods before ``period`` and 90
    days of repeat complaints before those (a case closed and quiet before then
    counts in none of them). ``wide``: every one of them as whole facts (reports:
    the trend, the weekly flow); else only those that can count from the period's
    start, the rest as filings (``stats``). With ``--as-of`` every case of that
    commit is counted in full, as it stood.
    """
    if data.as_of:
        facts, kept = facts_at(data.cases, as_at, data.rules, progress)
        clocks = clock_states(kept, facts, data.rules, as_at, clocks_since)
        return KpiInputs(facts, facts, clocks, list), None
    lookback = period.shifted(-(max(TREND_PERIODS, HISTORY_PERIODS) + 1)).start - REPEAT_WINDOW
    if not wide:
        lookback = min(period.shifted(-HISTORY_PERIODS).start, period.start - REPEAT_WINDOW)
    active_since = lookback if wide else period.start
    inputs = kpi_inputs(ws, data.rules, as_at, active_since, lookback, clocks_since, progress)
    return inputs, inputs.first_filing


def facts_at(cases: list[Case], as_at: datetime, rules: Rules, progress: Progress | None = None):
    advance = progress("reading cases", len(cases)) if progress else None
    facts, kept = [], []
    for case in cases:
        past = truncate(case, as_at)
        if past is not None:
            kept.append(past)
            facts.append(case_facts(past, rules.currency_for(past.state)))
        if advance:
            advance(1)
    return facts, kept


def stats(
    ws: Workspace,
    now: datetime | None,
    period_text: str | None = None,
    by: str | None = None,
    as_of: str | None = None,
) -> dict[str, Any]:
    """The KPIs of a period (default: the current month so far), optionally per group.

    With ``as_of`` the cases and rules are those of that past commit, counted as
    they stood at its moment; ``now`` (None: that moment) picks the default period.
    """
    if by is not None and by not in BY_FIELDS:
        raise UsageError(f"--by {by!r}: use one of {', '.join(BY_FIELDS)}")
    data = snapshot(ws, as_of, with_cases=False, provenance=False)
    if now is None:
        from cmtool.services.context import resolve_now

        now = data.moment or resolve_now(None)
    calendar = kpi_calendar(data.rules, now)
    period = choose_period(period_text, "month", calendar, now, complete=False)
    as_at = min(period.end, now, data.moment or now)
    inputs, first = kpi_inputs_for(ws, data, period, as_at, period.start, wide=False)
    facts, clocks = inputs.facts, inputs.clocks
    result = period_kpis(facts, period, as_at, calendar, clocks, history=inputs.history)
    from cmtool.reports.anomaly import category_alerts

    result["alerts"] = category_alerts(inputs.history, period, first_filing=first)
    result["data_commit"] = data.commit
    result["as_of"] = format_time(data.moment) if data.moment else None
    if by:
        result["by"] = by
        result["groups"] = group_kpis(facts, by, period, as_at, calendar, clocks, inputs.history)
    return result


def reports(ws: Workspace) -> list[ReportTemplate]:
    return list_reports(ws.templates_dir)


@dataclass(frozen=True)
class Rendered:
    template: ReportTemplate
    period: Period
    fmt: str
    path: Path | None  # where the file went; None when the text is returned
    text: str | None


def render_report(
    ws: Workspace,
    name: str,
    now: datetime,
    period_text: str | None = None,
    fmt: str = "md",
    output: Path | None = None,
    show_pii: bool = False,
    as_of: str | None = None,
    progress: Progress | None = None,
    hidden: frozenset[str] = frozenset(),
    on_open: Callable[[list[str]], None] | None = None,
) -> Rendered:
    """Render report ``name``; Excel always goes to a file (``output`` or
    ``<name>-<period>.xlsx``), Markdown and CSV to ``output`` or returned as text.
    ``hidden``: personal fields the reader may not read, masked in every row
    (``show_pii`` is refused when it would show one of them). ``on_open`` hears,
    before anything is written, which cases' names ``show_pii`` puts in it."""
    from cmtool.reports.render import render_text, render_workbook
    from cmtool.services.need_to_know import masked_row, refuse_hidden

    if show_pii:
        refuse_hidden(("customer", "contact"), hidden, "--show-pii shows")

    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    template = find_report(ws.templates_dir, name)
    if fmt not in template.formats:
        raise UsageError(f"report {name} has no {fmt} format (it has: {', '.join(template.formats)})")
    data = snapshot(ws, as_of, with_cases=False)
    calendar = kpi_calendar(data.rules, now)
    period = choose_period(period_text, template.period, calendar, now, complete=not template.running)
    as_at = min(period.end, now)
    if data.as_of and data.commit_date:
        as_at = min(as_at, datetime.fromisoformat(data.commit_date))
    trend_start = period.shifted(-TREND_PERIODS).start
    inputs, first = kpi_inputs_for(ws, data, period, as_at, trend_start, wide=True, progress=progress)
    facts, clocks = inputs.facts, inputs.clocks
    details = inputs.details
    if hidden:  # every row the report prints comes through here, masked

        def masked(some: Sequence[CaseFacts]) -> list[CaseFacts]:
            return [replace(f, state=MappingProxyType(masked_row(f.state, hidden))) for f in some]

        facts = masked(facts)
        details = lambda some: masked(inputs.details(some))  # noqa: E731
    provenance = Provenance(
        data_commit=data.commit,
        data_commit_date=data.commit_date,
        data_dirty=data.dirty,
        rules_sha256=hashlib.sha256(data.rules_text.encode("utf-8")).hexdigest(),
        template_sha256=template.sha256(),
        template=template.shown_folder,
        as_of=data.as_of,
        firm=data.rules.reporting.firm,
        classification=data.rules.reporting.classification,
        integrity=integrity(ws, data.commit, data.dirty),
        currency=data.rules.reporting.currency,
    )
    labels = {c.key: c.label for c in data.rules.categories}
    context = build_context(
        name,
        template.title,
        facts,
        period,
        as_at,
        calendar,
        clocks,
        provenance,
        show_pii,
        labels,
        first_filing=first,
        fca=fca_scope(data.rules),
        language=template.language,
        history=inputs.history,
        details=details,
    )
    context["language"] = template.language
    context["weekly"] = weekly_flow(facts, as_at)
    context["overdue_board"] = overdue_board(context["breaches"], {f.id: f.get("team") for f in facts})
    if show_pii and on_open is not None:
        named = [
            r for r in (*context["cases"], *context["oldest_open"]) if r.get("customer") or r.get("contact")
        ]
        on_open(list(dict.fromkeys(r["id"] for r in named)))
    rows = len(context["cases"])
    if fmt == "xlsx":
        target = output or Path(f"{name}-{period.label}.xlsx")
        advance = progress("writing workbook", rows) if progress else None
        _atomic_binary(target, lambda tmp: render_workbook(template, context, tmp, calendar.zone, advance))
        return Rendered(template, period, fmt, target, None)
    advance = progress("writing rows", rows) if progress and fmt == "csv" else None
    text = render_text(template, fmt, context, advance)
    if output is None:
        return Rendered(template, period, fmt, None, text)
    _atomic_binary(output, lambda tmp: tmp.write_text(text, encoding="utf-8", newline=""))
    return Rendered(template, period, fmt, output, None)


def fca_scope(rules: Rules) -> RegimeReturn:
    """The regimes the FCA return covers (every regime on an FCA DISP preset) and its
    currency: theirs if they name one, else sterling, the return's currency."""
    names = tuple(sorted(n for n, r in rules.regimes.items() if r.preset.startswith("fca_disp")))
    currency = next((rules.regimes[n].currency for n in names if rules.regimes[n].currency), None)
    return RegimeReturn(names or ("fca_disp", "fca_disp_payments"), currency or "GBP")


VERIFIED = "verified.json"  # in .git/cmtool/: the last verify result, to go on from


def integrity(ws: Workspace, commit: str | None, dirty: bool) -> dict[str, Any]:
    """What `audit verify` says about the history up to the data commit.

    The check starts after the latest `audit seal` in that history (a seal vouches
    for what came before it), or after the commit the last report verified (kept in
    .git/cmtool/verified.json with its count of findings), whichever is later: a
    report re-checks only the commits added since, not a 100,000-commit history."""
    from cmtool.services.audit import verify
    from cmtool.store.gitread import is_ancestor
    from cmtool.store.sealtags import commit_in_history, read_seal_tags

    if commit is None:
        return {"commit": None, "findings": 0, "commits": 0, "since": None, "text": "no data commit"}
    seal = None
    for tag in sorted(read_seal_tags(ws.root), key=lambda t: _seal_number(t.name), reverse=True):
        if commit_in_history(ws.root, tag.target, commit)[1]:
            seal = tag
            break
    known = _read_verified(ws)
    base, carried, checked = (seal.target if seal else None), 0, 0
    same_seal = known is not None and known.get("seal") == (seal.name if seal else None)
    if same_seal and (known["commit"] == commit or is_ancestor(ws.root, known["commit"], commit)):
        base, carried, checked = known["commit"], known["history_findings"], known["commits"]
    # From the data commit itself: no commit to check, but the seals still are.
    report = verify(ws, base, at=commit)
    history = carried + sum(1 for f in report.findings if not f.code.startswith("SEAL_"))
    seals = sum(1 for f in report.findings if f.code.startswith("SEAL_"))
    commits = checked + len(report.commits)
    _write_verified(ws, commit, seal.name if seal else None, history, commits)
    found = history + seals
    verdict = "0 findings" if not found else f"{found} findings (see cmtool audit verify)"
    scope = f"since seal {seal.name}" if seal else "from the first commit"
    text = f"{verdict} in {commits} commits {scope}"
    if dirty:
        text += "; uncommitted changes are not covered"
    return {
        "commit": commit,
        "findings": found,
        "commits": commits,
        "since": seal.name if seal else None,
        "text": f"audit verify at {commit[:12]}: {text}",
        "verdict": text,
    }


def _read_verified(ws: Workspace) -> dict[str, Any] | None:
    import json

    try:
        data = json.loads((ws.git_dir / "cmtool" / VERIFIED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = isinstance(data, dict) and isinstance(data.get("commit"), str)
    ok = ok and all(isinstance(data.get(k), int) for k in ("history_findings", "commits"))
    return data if ok else None


def _write_verified(ws: Workspace, commit: str, seal: str | None, findings: int, commits: int) -> None:
    import json

    folder = ws.git_dir / "cmtool"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temp = folder / f".{VERIFIED}.{os.getpid()}"
        record = {"commit": commit, "seal": seal, "history_findings": findings, "commits": commits}
        temp.write_text(json.dumps(record), encoding="utf-8")
        os.replace(temp, folder / VERIFIED)
    except OSError:
        pass  # a read-only clone: the next report checks again


def _seal_number(name: str) -> int:
    tail = name.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else -1


def _atomic_binary(target: Path, write: Callable[[Path], None]) -> None:
    """Write through a temporary file in the same folder: a failed render leaves no
    half file (and never clobbers an older report with a broken one)."""
    folder = target.resolve().parent
    if not folder.is_dir():
        raise UsageError(f"-o {target}: folder {folder} does not exist")
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=folder)
    os.close(handle)
    temp = Path(name)
    mask = os.umask(0)
    os.umask(mask)
    try:
        write(temp)
        os.chmod(temp, 0o666 & ~mask)  # mkstemp made it private; a report is a normal file
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


__all__ = ["GROUP_FIELDS", "stats", "render_report", "reports", "snapshot"]
