"""Commands that show cases: list, show."""

from typing import Annotated

import typer

from cmtool.cli.common import (
    ActorOpt,
    AsOfOpt,
    CsvOpt,
    IdArg,
    JsonOpt,
    NowOpt,
    WorkspaceOpt,
    echo,
    is_terminal,
    print_json,
    print_rows,
    skipped_files,
    warn,
)
from cmtool.errors import EXIT_FINDINGS


def register(app: typer.Typer) -> None:
    @app.command("list", rich_help_panel="Cases")
    def list_cmd(
        status: Annotated[
            str | None, typer.Option(help="open (every status before resolved), done, or statuses.")
        ] = None,
        assignee: Annotated[str | None, typer.Option()] = None,
        priority: Annotated[str | None, typer.Option()] = None,
        category: Annotated[str | None, typer.Option()] = None,
        channel: Annotated[str | None, typer.Option()] = None,
        sort: Annotated[
            str, typer.Option(help="Fields to sort by, comma-separated; -field for descending.")
        ] = "id",
        limit: Annotated[int | None, typer.Option(help="At most this many rows.")] = None,
        as_of: AsOfOpt = None,
        overdue: Annotated[
            bool, typer.Option("--overdue", help="Only open cases with a breached SLA clock.")
        ] = False,
        due_within: Annotated[
            str | None, typer.Option(help="Only open cases with a clock due within this time, e.g. 4h.")
        ] = None,
        now: NowOpt = None,
        workspace: WorkspaceOpt = None,
        as_json: JsonOpt = False,
        as_csv: CsvOpt = False,
    ) -> None:
        """List cases: a table on a terminal, tab-separated lines when piped, --json or --csv.

        Filters take comma-separated values, e.g. --priority critical,high."""
        from cmtool.services import query
        from cmtool.services.context import resolve_now
        from cmtool.store.workspace import find_workspace

        request = query.ListQuery(
            query.case_filter(status, assignee, priority, category, channel),
            tuple(sort.split(",")),
            limit,
            as_of,
            overdue,
            due_within,
        )
        ws = find_workspace(workspace)
        rows, columns = query.list_cases(ws, request, resolve_now(now))
        short = query.short_ids(ws, [r["id"] for r in rows]) if is_terminal() else None
        print_rows(rows, columns, as_json, as_csv, short_ids=short)
        if not as_of and skipped_files(workspace):
            raise typer.Exit(EXIT_FINDINGS)

    @app.command(rich_help_panel="Cases")
    def show(
        case_id: IdArg,
        as_of: AsOfOpt = None,
        now: NowOpt = None,
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Show one case with its SLA clocks (as of --now) and its timeline. Personal
        fields your role may not read (privacy.need_to_know) show as [masked]."""
        from cmtool.services.context import make_context, resolve_now
        from cmtool.services.privacy_records import masked_for
        from cmtool.services.query import show_case

        ctx = make_context(workspace, actor, now)
        case, clocks, warning = show_case(ctx.ws, case_id, as_of, resolve_now(now))
        case = masked_for(ctx.ws, ctx.actor, case)
        if warning:
            warn(f"warning: {warning}")
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
        lines.append(f"  {name:<{width}}  {_display(value)}")
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


def _display(value) -> str:
    """A state value as a person reads it: yes/no, 200.00, comma lists."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def _short(value) -> str:
    text = "-" if value is None else str(value)
    return text if len(text) <= 40 else text[:37] + "..."
