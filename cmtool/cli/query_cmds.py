"""Commands that show cases: list, show."""

from typing import Annotated

import typer

from cmtool.cli import completion
from cmtool.cli.common import (
    ActorOpt,
    AsOfOpt,
    CsvOpt,
    IdArg,
    JsonOpt,
    NowOpt,
    WorkspaceOpt,
    context,
    echo,
    is_terminal,
    print_json,
    print_rows,
    skipped_files,
    warn,
)
from cmtool.errors import EXIT_FINDINGS

# Options of `list` that are not filters of the query.
NOT_FILTERS = frozenset({"view", "now", "actor", "workspace", "as_json", "as_csv"})


def register(app: typer.Typer) -> None:
    @app.command("list", rich_help_panel="Cases")
    def list_cmd(
        view: Annotated[
            str | None,
            typer.Argument(help="A saved view from rules.yaml's views:, e.g. @my-queue.", show_default=False),
        ] = None,
        status: Annotated[
            str | None, typer.Option(help="open (every status before resolved), done, or statuses.")
        ] = None,
        assignee: Annotated[str | None, typer.Option(autocompletion=completion.people)] = None,
        priority: Annotated[str | None, typer.Option()] = None,
        category: Annotated[str | None, typer.Option(autocompletion=completion.categories)] = None,
        channel: Annotated[str | None, typer.Option()] = None,
        team: Annotated[str | None, typer.Option()] = None,
        region: Annotated[str | None, typer.Option()] = None,
        product: Annotated[str | None, typer.Option(help="Part of the product name, any case.")] = None,
        customer: Annotated[str | None, typer.Option(help="Part of the customer's name, any case.")] = None,
        tag: Annotated[str | None, typer.Option(help="Cases carrying any of these tags.")] = None,
        regime: Annotated[str | None, typer.Option(help="Cases under any of these regimes.")] = None,
        filed_since: Annotated[str | None, typer.Option(help="Filed on or after this date.")] = None,
        filed_until: Annotated[str | None, typer.Option(help="Filed on or before this date.")] = None,
        closed_since: Annotated[str | None, typer.Option(help="Closed on or after this date.")] = None,
        closed_until: Annotated[str | None, typer.Option(help="Closed on or before this date.")] = None,
        sla: Annotated[
            str | None,
            typer.Option(help="Open cases with a clock in this state: ok, warning, breached, paused."),
        ] = None,
        text: Annotated[
            str | None, typer.Option(help="Cases whose title, description, notes or resolution match.")
        ] = None,
        sort: Annotated[
            str | None, typer.Option(help="Fields to sort by, comma-separated; -field for descending.")
        ] = None,
        limit: Annotated[int | None, typer.Option(help="At most this many rows.", min=1)] = None,
        as_of: AsOfOpt = None,
        overdue: Annotated[
            bool, typer.Option("--overdue", help="Only open cases with a breached SLA clock.")
        ] = False,
        due_within: Annotated[
            str | None, typer.Option(help="Only open cases with a clock due within this time, e.g. 4h.")
        ] = None,
        now: NowOpt = None,
        actor: ActorOpt = None,
        workspace: WorkspaceOpt = None,
        as_json: JsonOpt = False,
        as_csv: CsvOpt = False,
    ) -> None:
        """List cases: a table on a terminal, tab-separated lines when piped, --json or --csv.

        Filters take comma-separated values, e.g. --priority critical,high; dates are
        inclusive, e.g. --filed-since 2025-11-01. A view (@name) runs the filters saved
        under views: in rules.yaml ($ME there is --actor, or you); options given here
        override the view's."""
        from cmtool.services import list_views, query
        from cmtool.services.context import resolve_now

        options = {k: v for k, v in locals().items() if k not in NOT_FILTERS}
        if view is not None and not view.startswith("@"):
            raise typer.BadParameter(f"{view!r}: a view is written @name", param_hint="VIEW")
        ctx = context(workspace, actor)
        saved = list_views.saved_view(ctx.ws, view[1:], ctx.actor) if view else None
        request = list_views.list_query(options, saved)
        from cmtool.services.need_to_know import hidden_for

        rows, columns = query.list_cases(ctx.ws, request, resolve_now(now), hidden_for(ctx.ws, ctx.actor))
        short = query.short_ids(ctx.ws, [r["id"] for r in rows]) if is_terminal() else None
        print_rows(rows, columns, as_json, as_csv, short_ids=short)
        if not as_of and skipped_files(workspace):
            raise typer.Exit(EXIT_FINDINGS)

    @app.command(rich_help_panel="Cases")
    def search(
        text: Annotated[
            str | None, typer.Argument(help="Words to find, in any language; every word must match.")
        ] = None,
        similar: Annotated[
            str | None,
            typer.Option(
                "--similar",
                help="Instead: the resolved and closed cases most like this one, with their resolutions.",
                autocompletion=completion.case_ids,
            ),
        ] = None,
        status: Annotated[str | None, typer.Option(help="open, done, or statuses.")] = None,
        limit: Annotated[int, typer.Option(help="At most this many cases.", min=1)] = 20,
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        as_json: JsonOpt = False,
        as_csv: CsvOpt = False,
    ) -> None:
        """Find cases by the words of their title, description, notes and resolution,
        best match first, with the matching words in [brackets]. Fields your role may
        not read (privacy.need_to_know) are neither searched nor quoted."""
        from cmtool.services import query, search
        from cmtool.services.need_to_know import hidden_for

        if bool(text) == bool(similar):
            raise typer.BadParameter("give words to find, or --similar ID (not both)")
        ctx = context(workspace, actor)
        ws, hidden = ctx.ws, hidden_for(ctx.ws, ctx.actor)
        if similar:
            rows, columns = search.similar(ws, similar, limit, hidden), search.SIMILAR_COLUMNS
        else:
            rows, columns = search.search(ws, text or "", status, limit, hidden), search.SEARCH_COLUMNS
        short = query.short_ids(ws, [r["id"] for r in rows]) if is_terminal() else None
        print_rows(rows, columns, as_json, as_csv, short_ids=short)

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
        from cmtool.services.need_to_know import masked_for
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
    from cmtool.services.evidence import attachments_of

    files = attachments_of(case)
    if files:
        lines += ["", "Attachments:"]
        for f in files:
            size = f"{f['size']:,} bytes"
            lines.append(
                f"  {f['name']}  {size}  {f['type']}  sha256 {f['sha256'][:12]}  ({f['at']}, {f['by']})"
            )
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
