"""Commands that summarise the workspace: stats (KPIs) and report (templates)."""

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from cmtool.cli.common import (
    ActorOpt,
    AsOfOpt,
    JsonOpt,
    NowOpt,
    WorkspaceOpt,
    context,
    echo,
    for_terminal,
    is_terminal,
    print_json,
    print_rows,
    skipped_files,
    warn,
)
from cmtool.errors import EXIT_FINDINGS

PeriodOpt = Annotated[
    str | None,
    typer.Option(
        "--period",
        help="2026-10 (month), 2026-Q3, 2026-H1, 2026 or 2026-10-01..2026-10-15.",
        show_default=False,
    ),
]
BY_HELP = "One row per category, channel, team, assignee, region or product."
GROUP_COLUMNS = ("key", "received", "closed", "open", "median days", "in 8 weeks", "SLA", "CSAT")


def register(app: typer.Typer) -> None:
    @app.command(rich_help_panel="Reports")
    def stats(
        period: PeriodOpt = None,
        by: Annotated[str | None, typer.Option("--by", help=BY_HELP, show_default=False)] = None,
        as_of: AsOfOpt = None,
        workspace: WorkspaceOpt = None,
        now: NowOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """KPIs of a period (default: this month so far): volumes, response and resolution
        times, SLA compliance, escalation/reopen rates, CSAT, NPS, alerts. With --as-of,
        counted from the data as it stood then (and "now" is that moment)."""
        from cmtool.services.context import resolve_now
        from cmtool.services.reporting import stats as compute
        from cmtool.store.workspace import find_workspace

        at = resolve_now(now) if now or not as_of else None  # None: the as-of moment
        result = compute(find_workspace(workspace), at, period, by, as_of)
        skipped = [] if as_of else skipped_files(workspace)
        result["skipped_files"] = [problem.to_dict() for problem in skipped]
        if as_json or not is_terminal():
            print_json(result)
            if skipped:
                raise typer.Exit(EXIT_FINDINGS)
            return
        provisional = ", provisional" if result["provisional"] else ""
        print_rows(
            kpi_rows(result),
            ("measure", "value", "note"),
            False,
            False,
            title=f"KPIs {result['period']['label']} (as at {result['as_at']}{provisional}"
            + (f", data of {result['data_commit'][:12]})" if as_of else ")"),
        )
        if by:
            print_rows(
                [group_row(g) for g in result["groups"]],
                GROUP_COLUMNS,
                False,
                False,
                title=f"by {by}",
            )
        for alert in result["alerts"]:
            warn(
                f"alert: {alert['key']}: {alert['count']} complaints, usually "
                f"{alert['baseline']} (z = {alert['z']})"
            )
        if skipped:
            raise typer.Exit(EXIT_FINDINGS)

    @app.command(rich_help_panel="Reports")
    def report(
        name: Annotated[
            str | None, typer.Argument(help="Report name (see --list).", show_default=False)
        ] = None,
        list_: Annotated[bool, typer.Option("--list", help="List the workspace's reports.")] = False,
        period: PeriodOpt = None,
        fmt: Annotated[
            str, typer.Option("--format", "-f", help="md, xlsx, csv, or html (the dashboard).")
        ] = "md",
        output: Annotated[
            Path | None,
            typer.Option(
                "--output",
                "-o",
                help="Output file (default: stdout for md and csv, NAME-PERIOD.xlsx for xlsx).",
                show_default=False,
            ),
        ] = None,
        show_pii: Annotated[
            bool,
            typer.Option("--show-pii", help="Show customer names and contact details (masked by default)."),
        ] = False,
        as_of: AsOfOpt = None,
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Render a report from its template: Markdown, Excel or CSV. Each report states
        its data commit and the hashes of the rules and template it used. Personal
        fields your role may not read (privacy.need_to_know) read [masked]."""
        from cmtool.errors import UsageError
        from cmtool.services import reporting
        from cmtool.services.context import resolve_now
        from cmtool.store.workspace import find_workspace

        ws = find_workspace(workspace)
        if list_:
            rows = [
                {
                    "name": t.name,
                    "title": t.title,
                    "period": t.period,
                    "formats": ", ".join(t.formats),
                    "source": t.source,
                }
                for t in reporting.reports(ws)
            ]
            print_rows(rows, ("name", "title", "period", "formats", "source"), as_json, False)
            return
        if not name:
            raise UsageError("name a report, or list them with: cmtool report --list")
        from cmtool.services.need_to_know import hidden_for

        ctx = context(workspace, actor, now)
        hidden = hidden_for(ws, ctx.actor)

        def record(case_ids: list[str]) -> None:
            from cmtool.services.personal_export import record_export
            from cmtool.services.privacy import policy_of

            shown = sorted({"customer", "contact"} & policy_of(ws).personal)
            details = {"purpose": "report", "report": name, "format": fmt, "fields": shown}
            record_export(ctx, case_ids, details)

        if fmt == "xlsx" and output is not None and str(output) == "-":
            raise UsageError("an Excel report goes to a file: -o report.xlsx")
        target = None if output is not None and str(output) == "-" else output
        with progress_bar() as progress:
            done = reporting.render_report(
                ws, name, resolve_now(now), period, fmt, target, show_pii, as_of, progress, hidden, record
            )
        if done.text is not None:
            sys.stdout.write(for_terminal(done.text))
        elif as_json:
            print_json({"report": name, "period": done.period.label, "format": fmt, "path": str(done.path)})
        else:
            echo(f"wrote {done.path} ({name}, {done.period.label})")
        if not as_of and skipped_files(workspace):
            raise typer.Exit(EXIT_FINDINGS)


@contextmanager
def progress_bar() -> Iterator[Callable[[str, int], Callable[[int], None]] | None]:
    """A rich progress bar on stderr when it is a terminal; nothing when piped."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:

        def start(label: str, total: int) -> Callable[[int], None]:
            task = bar.add_task(label, total=total)
            return lambda n: bar.advance(task, n)

        yield start


def kpi_rows(k: dict[str, Any]) -> list[dict[str, Any]]:
    """The reports' summary rows (same figures, same words), for the terminal."""
    from cmtool.reports.headline import summary_rows

    rows = []
    for row in summary_rows(k):
        value, fmt = row["value"], row["format"]
        if value is None:
            shown: Any = "n/a"
        elif fmt.endswith("%"):
            shown = f"{value * 100:.1f}%"
        elif isinstance(value, float):
            shown = f"{value:,.2f}" if "0.00" in fmt else f"{value:,.1f}"
        else:
            shown = value
        rows.append({"measure": row["measure"], "value": shown, "note": row["note"]})
    for key, label in (("top_categories", "Top categories"), ("top_root_causes", "Top root causes")):
        listed = ", ".join(f"{t['key']} {t['count']}" for t in k[key])
        rows.append({"measure": label, "value": "", "note": listed})
    return rows


def group_row(g: dict[str, Any]) -> dict[str, Any]:
    """One short row per group for the terminal (--json has every figure)."""
    met = sum(c["met"] for c in g["sla"])
    missed = sum(c["missed"] for c in g["sla"])
    median = g["resolution_hours"]["median"]
    within = g["closed_within_8_weeks"]["rate"]
    return {
        "key": g["key"],
        "received": g["received"],
        "closed": g["closed"],
        "open": g["open_at_end"],
        "median days": None if median is None else round(median / 24, 1),
        "in 8 weeks": None if within is None else f"{within * 100:.0f}%",
        "SLA": f"{100 * met / (met + missed):.0f}%" if met + missed else None,
        "CSAT": g["surveys"]["csat_average"],
    }
