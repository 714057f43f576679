"""`cmtool attach`, `cmtool attachments` and `cmtool link`: evidence on a case, and
cases that belong together."""

from pathlib import Path
from typing import Annotated

import typer

from cmtool.cli.common import (
    ActorOpt,
    IdArg,
    JsonOpt,
    NowOpt,
    WorkspaceOpt,
    context,
    echo,
    print_json,
    print_rows,
)


def register(app: typer.Typer) -> None:
    @app.command(rich_help_panel="Cases")
    def attach(
        case_id: IdArg,
        files: Annotated[list[Path], typer.Argument(help="Files to attach.", show_default=False)],
        note: Annotated[str | None, typer.Option(help="What the files show (kept in the event).")] = None,
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Attach files to a case: stored by their sha256 under attachments/, recorded
        with name, size, type and hash in one event; `show` lists them, `audit verify`
        checks every one. The size limit is attachments.max_size_mb in rules.yaml."""
        from cmtool.services.evidence import attach as attach_files
        from cmtool.services.evidence import attachments_of

        case = attach_files(context(workspace, actor, now), case_id, files, note)
        added = attachments_of(case)[-len(files) :]
        if as_json:
            print_json(added)
            return
        for item in added:
            echo(f"{case.id}: attached {item['name']} ({item['size']:,} bytes, sha256 {item['sha256'][:12]})")

    @app.command("attachments", rich_help_panel="Cases")
    def attachments_cmd(
        case_id: IdArg,
        save: Annotated[
            Path | None,
            typer.Option(
                "--save",
                help="Write the files into this folder, opened (sealed ones: recorded as a privacy_export).",
            ),
        ] = None,
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """A case's attached files (name, size, type, sha256, when, by whom); --save DIR
        writes them out as <sha256 prefix>-<name>. A sealed file opens only with the
        case's key: without it, or after erasure, it stays [sealed]. Exit 1 when a file
        could not be saved."""
        from cmtool.services.evidence import attachments_of, save_attachments

        ctx = context(workspace, actor, now)
        if save is None:
            from cmtool.services.need_to_know import masked_for
            from cmtool.store.casefiles import load_case, resolve_id

            case, _ = load_case(ctx.ws, resolve_id(ctx.ws, case_id))
            rows = [
                {**item, "sealed": bool(item.get("stored_sha256"))}
                for item in attachments_of(masked_for(ctx.ws, ctx.actor, case))
            ]
            print_rows(rows, ("name", "size", "type", "sha256", "sealed", "at", "by"), as_json, False)
            return
        saved = save_attachments(ctx, case_id, save)
        if as_json:
            print_json(
                [{"sha256": s.sha256, "path": str(s.path) if s.path else None, "why": s.why} for s in saved]
            )
        else:
            for item in saved:
                echo(f"{item.sha256[:12]}  {item.path if item.path else 'not saved: ' + str(item.why)}")
        if any(item.path is None for item in saved):
            raise typer.Exit(1)

    @app.command(rich_help_panel="Cases")
    def link(
        case_id: IdArg,
        other: Annotated[str, typer.Argument(help="The other case (ID or prefix).", show_default=False)],
        kind: Annotated[
            str,
            typer.Option(
                "--as",
                help="duplicate (CASE_ID repeats OTHER, counted once), parent (of OTHER), related.",
            ),
        ] = "related",
        note: Annotated[str | None, typer.Option(help="Why (kept in both events).")] = None,
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
    ) -> None:
        """Link two cases; both show the link, one commit records it."""
        from cmtool.services.links import link as link_cases

        first, second = link_cases(context(workspace, actor, now), case_id, other, kind, note)
        echo(f"{first.id}: {first.get('links')[-1]}")
        echo(f"{second.id}: {second.get('links')[-1]}")
