"""`cmtool index`: the disposable SQLite index (a cache; safe to delete)."""

import typer

from cmtool.cli.common import JsonOpt, WorkspaceOpt, echo, print_json
from cmtool.errors import EXIT_FINDINGS

index_app = typer.Typer(
    help="The disposable index that makes list, SLA checks and reports fast.", no_args_is_help=True
)


@index_app.command("rebuild")
def rebuild_cmd(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """Rebuild the index from the case files."""
    from dataclasses import asdict

    from cmtool.store import index
    from cmtool.store.workspace import find_workspace

    status = index.rebuild(find_workspace(workspace))
    if as_json:
        print_json(asdict(status))
    else:
        echo(f"indexed {status.cases} cases at {status.head or '(no commit)'}")


@index_app.command("status")
def status_cmd(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """Check every row against git and the work tree; exit 1 if any is stale."""
    from dataclasses import asdict

    from cmtool.store import index
    from cmtool.store.workspace import find_workspace

    ws = find_workspace(workspace)
    before = index.status(ws)
    stale = index.stale_paths(ws)
    report = {**asdict(before), "stale": stale}
    if as_json:
        print_json(report)
    else:
        echo(f"index: {before.path}")
        echo(f"cases: {before.cases}, indexed at {before.indexed_commit or '-'}, HEAD {before.head or '-'}")
        echo(f"stale rows: {len(stale)}" + (" (run: cmtool index rebuild)" if stale else ""))
    if stale:
        raise typer.Exit(EXIT_FINDINGS)


def register(app: typer.Typer) -> None:
    app.add_typer(index_app, name="index", rich_help_panel="Workspace")
