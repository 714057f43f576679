"""Commands for auditors: history, audit verify, audit seal, audit export."""

from pathlib import Path
from typing import Annotated

import typer

from cmtool.cli.common import ActorOpt, IdArg, JsonOpt, NowOpt, WorkspaceOpt, context, echo, print_json, warn

audit_app = typer.Typer(help="Check the history: verify, seal, export for auditors.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit", rich_help_panel="Audit")

    @app.command(rich_help_panel="Audit")
    def history(
        case_id: IdArg,
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """A case's timeline with the commit that wrote each event (hash, author, date).
        Personal fields your role may not read (privacy.need_to_know) show as [masked]."""
        from cmtool.services.history import case_history
        from cmtool.services.need_to_know import hidden_for

        ctx = context(workspace, actor)
        entries = case_history(ctx.ws, case_id, hidden_for(ctx.ws, ctx.actor))
        if as_json:
            print_json([entry.to_dict() for entry in entries])
            return
        for entry in entries:
            echo(entry.render())


@audit_app.command("verify")
def verify_cmd(
    since: Annotated[
        str | None, typer.Option(help="Check only commits after this one (id, tag or branch).")
    ] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check every commit and seal; exit 1 when anything was changed behind cmtool's back."""
    from cmtool.services.audit import verify
    from cmtool.store.workspace import find_workspace

    report = verify(find_workspace(workspace), since)
    if as_json:
        print_json({**report.summary(), "items": [f.to_dict() for f in report.findings]})
    else:
        for finding in report.findings:
            echo(str(finding))
        summary = report.summary()
        verdict = "OK: no findings" if report.ok else f"{len(report.findings)} finding(s)"
        warn(
            f"{verdict} ({summary['commits_checked']} commits, "
            f"{summary['case_files_checked']} case files, {summary['seals_checked']} seals)"
        )
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("seal")
def seal_cmd(
    message: Annotated[str | None, typer.Option("--message", "-m", help="Why this point is sealed.")] = None,
    sign: Annotated[bool, typer.Option("--sign", help="Sign the tag (git tag -s).")] = False,
    force: Annotated[bool, typer.Option(help="Seal even when verify has findings.")] = False,
    workspace: WorkspaceOpt = None,
    actor: ActorOpt = None,
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Seal HEAD: an annotated tag cmtool-seal-N that later verifies prove unchanged."""
    from cmtool.services.audit import seal

    done = seal(context(workspace, actor, now), message, sign, force)
    if as_json:
        print_json(
            {"tag": done.name, "tag_object": done.tag_object, "commit": done.commit, "tree": done.tree}
        )
        return
    echo(f"sealed {done.commit[:12]} as {done.name} (tag object {done.tag_object})")
    echo("keep the tag object id somewhere outside this repository: it proves this seal later")


@audit_app.command("export")
def export_cmd(
    period: Annotated[
        str, typer.Option(help="2025, 2025-Q4, 2025-11, 2025-11-03, or FROM..TO (dates, TO included).")
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder to write the bundle to (must be new or empty).")
    ],
    workspace: WorkspaceOpt = None,
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write an auditor's bundle: event log (CSV, JSON), verify findings, commits in range."""
    from cmtool.services.audit_export import export_bundle
    from cmtool.services.context import resolve_now
    from cmtool.store.workspace import find_workspace

    manifest = export_bundle(find_workspace(workspace), period, output, resolve_now(now))
    if as_json:
        print_json(manifest)
        return
    echo(
        f"wrote {output}: {manifest['events']} events, {manifest['commits']} commits, "
        f"{manifest['findings']} findings"
    )
    if manifest["findings"]:
        raise typer.Exit(1)
