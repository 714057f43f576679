"""Commands that show cases: list, show."""

from __future__ import annotations

from typing import Annotated

import typer

from cmtool.cli.common import CsvOpt, JsonOpt, NowOpt, WorkspaceOpt, echo, print_json, print_rows

AsOfOpt = Annotated[str | None, typer.Option(
    "--as-of", help="As it stood then: a date (end of day), a time, or a commit/tag.",
    show_default=False)]  # fmt: skip


def register(app: typer.Typer) -> None:
    @app.command("list", rich_help_panel="Cases")
    def list_cmd(
        status: Annotated[str | None, typer.Option(help="open (every status before resolved), "
                                                   "done, or statuses, comma-separated.")] = None,  # fmt: skip
        assignee: Annotated[str | None, typer.Option()] = None,
        priority: Annotated[str | None, typer.Option()] = None,
        category: Annotated[str | None, typer.Option()] = None,
        channel: Annotated[str | None, typer.Option()] = None,
        sort: Annotated[str, typer.Option(help="Fields to sort by, comma-separated; "
                                          "-field for descending.")] = "id",  # fmt: skip
        limit: Annotated[int | None, typer.Option(help="At most this many rows.")] = None,
        as_of: AsOfOpt = None,
        overdue: Annotated[bool, typer.Option(
            "--overdue", help="Only open cases with a breached SLA clock.")] = False,
        due_within: Annotated[str | None, typer.Option(
            help="Only open cases with a clock due within this time, e.g. 4h.")] = None,
        now: NowOpt = None,
        workspace: WorkspaceOpt = None, as_json: JsonOpt = False, as_csv: CsvOpt = False,
    ) -> None:
        """List cases: a table on a terminal, JSON when piped or with --json, CSV with --csv."""
        from cmtool.services import query
        from cmtool.store.catalog import case_rows
        from cmtool.store.workspace import find_workspace

        ws = find_workspace(workspace)
        statuses = query.parse_statuses(status)
        case_filter = query.CaseFilter(statuses, assignee, priority, category, channel)
        if as_of:  # the cases as they stood then, rebuilt from git history
            from cmtool.services.asof import cases_as_of

            rows = [query.summary_row(c) for c in cases_as_of(ws, as_of, statuses or None)]
        else:
            rows = case_rows(ws, statuses or None)
        columns = query.LIST_COLUMNS
        if overdue or due_within:  # SLA filters: clocks computed as of --now
            from cmtool.services.context import resolve_now
            from cmtool.services.sla_query import parse_window, urgent_clocks

            window = parse_window(due_within) if due_within else None
            urgent = urgent_clocks(ws, resolve_now(now), overdue, window)
            rows = [{**r, "clock": urgent[r["id"]].clock, "due_at": urgent[r["id"]].due_at}
                    for r in rows if r["id"] in urgent]  # fmt: skip
            columns = (*columns, "clock", "due_at")
        chosen = query.select(rows, case_filter, sort.split(","), limit)
        print_rows(chosen, columns, as_json, as_csv)

    @app.command(rich_help_panel="Cases")
    def show(
        case_id: Annotated[str, typer.Argument(help="Case ID or an unambiguous prefix.")],
        as_of: AsOfOpt = None,
        now: NowOpt = None,
        workspace: WorkspaceOpt = None, as_json: JsonOpt = False,
    ) -> None:
        """Show one case with its SLA clocks (as of --now) and its timeline."""
        from cmtool.store.casefiles import load_case, resolve_id
        from cmtool.store.workspace import find_workspace

        ws = find_workspace(workspace)
        if as_of:
            from cmtool.services.asof import case_as_of

            case = case_as_of(ws, case_id, as_of)
        else:
            case, _ = load_case(ws, resolve_id(ws, case_id))
        from cmtool.cli.sla_cmds import case_clock_states

        clocks = [] if as_of else case_clock_states(ws, case, now)
        if as_json:
            print_json({**case.to_dict(), "clocks": [c.to_dict() for c in clocks]})
            return
        echo(render_case(case, clocks))


def render_case(case, clocks=()) -> str:
    from cmtool.model.fields import FIELD_NAMES

    width = max(len(n) for n in FIELD_NAMES)
    lines = [f"{case.id}  {case.get('title')}", ""]
    for name in FIELD_NAMES:
        value = case.state.get(name)
        if value in (None, [], {}) or name in ("title", "description"):
            continue
        if isinstance(value, list):
            value = ", ".join(map(str, value))
        lines.append(f"  {name:<{width}}  {value}")
    if case.get("description"):
        lines += ["", "  " + case.get("description").rstrip().replace("\n", "\n  ")]
    if clocks:
        from cmtool.cli.sla_cmds import render_clocks

        lines += ["", "Clocks:", *render_clocks(clocks)]
    lines += ["", "Timeline:"]
    for event in case.events:
        changed = ", ".join(
            f"{k}: {_short(old)} -> {_short(new)}"
            for k, (old, new) in event.changes.items()
            if event.action != "file" or k in ("status",)
        )
        lines.append(f"  {event.at}  {event.actor:<10} {event.action:<10} {changed}")
        if event.note:
            lines.append(f"{'':<38}\u201c{event.note.strip()}\u201d")
    return "\n".join(lines)


def _short(value) -> str:
    text = "-" if value is None else str(value)
    return text if len(text) <= 40 else text[:37] + "..."
