"""`cmtool demo`: a workspace from the bundled sample, with the history that made it
(``demo_history``), then the main job on it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

from cmtool.errors import UsageError
from cmtool.services.demo_history import build_history, people_emails
from cmtool.services.validation import validate_workspace
from cmtool.services.workspace_ops import use_key_store
from cmtool.store.workspace import BUNDLED, init_workspace

MARKER = ".git/cmtool-demo"  # inside .git, so git status stays clean


def sample_clock() -> str:
    """An hour after the bundled sample's last event: the demo's default "now", so the
    sample shows a live team's mix of on-time, warning and breached clocks rather
    than everything a year overdue."""
    from datetime import timedelta

    from cmtool.model.timefmt import format_time, parse_time
    from cmtool.store.yamlio import load

    latest = max(
        parse_time(event["at"])
        for path in (BUNDLED / "cases").rglob("C-*.yaml")
        for event in load(path.read_text(encoding="utf-8"), str(path))["events"]
    )
    return format_time(latest + timedelta(hours=1))


def run_demo(directory: Path, now: str | None) -> Iterator[str]:
    now = now or sample_clock()
    target = directory.expanduser().resolve()
    if target.exists() and any(target.iterdir()):
        if not (target / MARKER).exists():
            raise UsageError(f"{target} exists and is not a cmtool demo; pick another folder")
        shutil.rmtree(target)  # a previous demo: safe to rebuild
    keys = target.with_name(f"{target.name}-keys.sqlite")  # beside it: keys never enter git
    keys.unlink(missing_ok=True)
    ws = init_workspace(target)
    use_key_store(ws, str(keys))
    commits = build_history(ws, people_emails(ws.rules_path))
    (ws.root / MARKER).write_text("built by cmtool demo; safe to delete\n")
    yield f"demo workspace: {ws.root} (clock: {now}; pass --now to change it)"
    yield f"history: {commits} commits from June to November 2025, weekly syncs, sealed to September"
    checked, problems = validate_workspace(ws)
    yield f"validate: {checked} case files, {len(problems)} problems"
    for problem in problems:
        yield f"  {problem}"
    yield from demo_reports(ws, now)
    yield from _sla_sweep(ws, now)
    yield from _erasure(ws, now)


def _erasure(ws, now: str | None) -> Iterator[str]:
    """A customer who asks to be forgotten: filed (sealed, the key beside the
    workspace), then erased; the case, its events and clocks stay."""
    from cmtool.services.context import make_context
    from cmtool.services.filing import file_complaint
    from cmtool.services.privacy import erase

    fields = {
        "title": "Account closed, asks to delete personal data",
        "channel": "email",
        "customer": "Wang Xiaoming",
        "contact": "wang.xiaoming@example.com",
        "description": "I closed my account last month. Please delete everything you hold about me.",
    }
    case = file_complaint(make_context(ws.root, "li.na", now), fields)
    erase(make_context(ws.root, "omar", now), None, [case.id], "PIPL art. 47 (request of the person)")
    yield f"privacy erase: {case.id} (the customer's request; its key destroyed, it reads [sealed])"


def demo_reports(ws, now: str | None) -> Iterator[str]:
    """The bundled reports and the dashboard for the sample's latest month (its
    half-year for the FCA return), into reports/ (listed in .git/info/exclude, so git stays clean)."""
    from cmtool.services.context import resolve_now
    from cmtool.services.reporting import render_report
    from cmtool.store.catalog import all_cases

    filed = [c.get("filed_at") for c in all_cases(ws) if c.get("filed_at")]
    if not filed:
        return
    latest = max(filed)[:7]  # YYYY-MM of the latest filing
    half = f"{latest[:4]}-H{1 if int(latest[5:7]) <= 6 else 2}"
    folder = ws.root / "reports"
    folder.mkdir(exist_ok=True)
    with open(ws.git_dir / "info" / "exclude", "a", encoding="utf-8") as exclude:
        exclude.write("/reports/\n")
    moment = resolve_now(now)
    for name, fmt, period in (
        ("compliance", "md", latest),
        ("compliance", "xlsx", latest),
        ("fca", "md", half),
        ("cfpb", "csv", latest),
        ("cn", "md", latest),
        ("dashboard", "html", latest),
    ):
        target = folder / f"{name}-{period}.{fmt}"
        render_report(ws, name, moment, period, fmt, target)
        yield f"report: {target.relative_to(ws.root)}"


def _sla_sweep(ws, now: str | None) -> Iterator[str]:
    """The cron job's view: every clock of every open case, then the escalation sweep."""
    from cmtool.services.context import make_context
    from cmtool.services.sla_sweep import sla_check

    ctx = make_context(ws.root, "sla-bot", now)
    result = sla_check(ctx, apply=True)
    yield (
        f"sla check --apply: {result.cases_checked} open cases, {result.clocks_checked} "
        f"clocks, {len(result.breaches)} breached, "
        f"{sum(f.clock.state == 'warning' for f in result.findings)} in warning; "
        f"{len(result.applied)} escalation steps committed"
    )
    for step in result.applied[:10]:
        yield f"  {step.case_id} {step.clock}: {step.step.name} -> {', '.join(step.notify) or '-'}"
