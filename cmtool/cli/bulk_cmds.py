"""`cmtool bulk`: edit, assign, close or tag many cases in one commit."""

import sys
from typing import Annotated

import typer

from cmtool.cli import completion
from cmtool.cli.common import ActorOpt, CsvOpt, JsonOpt, NowOpt, WorkspaceOpt, context, print_rows, warn

IdsArg = Annotated[
    list[str] | None,
    typer.Argument(
        help="Case IDs or prefixes; - reads them from standard input (first column, e.g. from cmtool list).",
        autocompletion=completion.case_ids,
        show_default=False,
    ),
]
WhereOpt = Annotated[
    str | None,
    typer.Option(
        "--where",
        help='The cases `list` would show for these filters, e.g. "category=billing status=open" or @view.',
    ),
]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Show what would change; change nothing.")]


def register(app: typer.Typer) -> None:
    bulk = typer.Typer(
        help="One change to many cases: one commit naming every case, one event per case. "
        "Cases the change does not apply to are listed and left alone (exit 1).",
        no_args_is_help=True,
    )
    app.add_typer(bulk, name="bulk", rich_help_panel="Cases")

    @bulk.command("edit")
    def bulk_edit(
        ids: IdsArg = None,
        where: WhereOpt = None,
        priority: Annotated[str | None, typer.Option()] = None,
        category: Annotated[str | None, typer.Option(autocompletion=completion.categories)] = None,
        team: Annotated[str | None, typer.Option()] = None,
        product: Annotated[str | None, typer.Option()] = None,
        region: Annotated[str | None, typer.Option()] = None,
        root_cause: Annotated[str | None, typer.Option()] = None,
        reason: Annotated[str | None, typer.Option(help="Why (kept in each event).")] = None,
        dry_run: DryRunOpt = False,
        actor: ActorOpt = None,
        now: NowOpt = None,
        workspace: WorkspaceOpt = None,
        as_json: JsonOpt = False,
        as_csv: CsvOpt = False,
    ) -> None:
        """Change fields of many cases."""
        from cmtool.services import bulk as service

        updates = {
            k: v
            for k, v in dict(
                priority=priority,
                category=category,
                team=team,
                product=product,
                region=region,
                root_cause=root_cause,
            ).items()
            if v is not None
        }
        if not updates:
            raise typer.BadParameter("name a field to change, e.g. --category billing")
        what = ", ".join(f"{k}={v}" for k, v in updates.items())
        _run(
            workspace,
            actor,
            now,
            ids,
            where,
            "edit",
            service.edit_step(updates, reason),
            what,
            dry_run,
            as_json,
            as_csv,
        )

    @bulk.command("assign")
    def bulk_assign(
        ids: IdsArg = None,
        where: WhereOpt = None,
        to: Annotated[
            str, typer.Option("--to", help="The new owner.", autocompletion=completion.people)
        ] = "",
        reason: Annotated[str | None, typer.Option(help="Why (kept in each event).")] = None,
        dry_run: DryRunOpt = False,
        actor: ActorOpt = None,
        now: NowOpt = None,
        workspace: WorkspaceOpt = None,
        as_json: JsonOpt = False,
        as_csv: CsvOpt = False,
    ) -> None:
        """Give many cases one owner."""
        from cmtool.services import bulk as service

        step = service.assign_step(to, reason)
        _run(workspace, actor, now, ids, where, "assign", step, f"to {to}", dry_run, as_json, as_csv)

    @bulk.command("close")
    def bulk_close(
        ids: IdsArg = None,
        where: WhereOpt = None,
        note: Annotated[str | None, typer.Option(help="A note kept in each event.")] = None,
        dry_run: DryRunOpt = False,
        actor: ActorOpt = None,
        now: NowOpt = None,
        workspace: WorkspaceOpt = None,
        as_json: JsonOpt = False,
        as_csv: CsvOpt = False,
    ) -> None:
        """Close many resolved cases (others are refused, as `close` refuses them)."""
        from cmtool.services import bulk as service

        _run(
            workspace,
            actor,
            now,
            ids,
            where,
            "close",
            service.close_step(note),
            "closed",
            dry_run,
            as_json,
            as_csv,
        )

    @bulk.command("tag")
    def bulk_tag(
        ids: IdsArg = None,
        where: WhereOpt = None,
        add: Annotated[list[str] | None, typer.Option("--add", help="A tag to add (repeatable).")] = None,
        remove: Annotated[
            list[str] | None, typer.Option("--remove", help="A tag to remove (repeatable).")
        ] = None,
        dry_run: DryRunOpt = False,
        actor: ActorOpt = None,
        now: NowOpt = None,
        workspace: WorkspaceOpt = None,
        as_json: JsonOpt = False,
        as_csv: CsvOpt = False,
    ) -> None:
        """Add or remove tags on many cases."""
        from cmtool.services import bulk as service

        added, removed = add or [], remove or []
        what = " ".join([*(f"+{t}" for t in added), *(f"-{t}" for t in removed)])
        step = service.tag_step(added, removed)
        _run(workspace, actor, now, ids, where, "tag", step, what, dry_run, as_json, as_csv)


def _run(workspace, actor, now, ids, where, action, step, what, dry_run, as_json, as_csv) -> None:
    from cmtool.services import bulk, list_views, query

    ctx = context(workspace, actor, now)
    refs = list(ids or [])
    if refs == ["-"]:
        refs = [line.split("\t")[0].strip() for line in sys.stdin if line.strip()]
        refs = [r for r in refs if r != "id"]  # the header of `cmtool list` in a pipe
    if where:
        if refs:
            raise typer.BadParameter("give IDs or --where, not both")
        view, options = list_views.parse_where(where)
        saved = list_views.saved_view(ctx.ws, view, ctx.actor) if view else None
        from cmtool.services.need_to_know import hidden_for

        request = list_views.list_query(options, saved)
        rows, _ = query.list_cases(ctx.ws, request, ctx.now, hidden_for(ctx.ws, ctx.actor))
        refs = [row["id"] for row in rows]
    result = bulk.run(ctx, bulk.resolve_ids(ctx, refs), action, step, what, dry_run)
    print_rows(result.rows(), ("id", "result", "why"), as_json, as_csv)
    verb = "would change" if dry_run else "changed"
    done = f"{verb} {len(result.changed)} case(s), refused {len(result.refused)}"
    warn(done + (f" (commit {result.commit[:12]})" if result.commit else ""))
    if result.refused:
        raise typer.Exit(1)
