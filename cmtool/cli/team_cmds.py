"""Commands for working as a team: sync, install, doctor, and the hidden merge driver."""

from pathlib import Path
from typing import Annotated

import typer

from cmtool.cli import common
from cmtool.cli.common import ActorOpt, JsonOpt, NowOpt, WorkspaceOpt, context, echo
from cmtool.errors import EXIT_FINDINGS

SHOWN = 20  # commits listed in text output; --json lists all


def _commits(label: str, commits) -> None:
    echo(f"{label}: {len(commits)} commit{'' if len(commits) == 1 else 's'}")
    for commit in commits[:SHOWN]:
        echo(f"  {commit.sha} {commit.summary}")
    if len(commits) > SHOWN:
        echo(f"  ... and {len(commits) - SHOWN} more")


def register(app: typer.Typer) -> None:
    @app.command(rich_help_panel="Team")
    def sync(
        remote: Annotated[
            str | None, typer.Option(help="Git remote (default: the branch's upstream, else origin).")
        ] = None,
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Fetch from the shared remote, merge (case files merge by timeline), push.

        Retries when the remote moved meanwhile; never force-pushes. Exit 6 when it
        cannot finish (the workspace is left as it was)."""
        from cmtool.services.sync import sync as run_sync

        report = run_sync(context(workspace, actor, now), remote)
        if as_json:
            common.print_json(report.to_dict())
            return
        if not report.incoming and not report.outgoing:
            echo(f"up to date with {report.remote}/{report.branch}")
            return
        _commits(f"in from {report.remote}/{report.branch}", report.incoming)
        if report.merged_cases:
            echo(
                f"merged {len(report.merged_cases)} cases changed on both sides: "
                + ", ".join(report.merged_cases)
            )
        for contest in report.contests:
            echo(f"contested (recorded as a merge_contest event) {contest}")
        _commits(f"out to {report.remote}/{report.branch}", report.outgoing)

    @app.command("merge-driver", hidden=True)
    def merge_driver(
        base: Annotated[Path, typer.Argument()],
        ours: Annotated[Path, typer.Argument()],
        theirs: Annotated[Path, typer.Argument()],
        path: Annotated[str, typer.Argument()],
    ) -> None:
        """git's merge driver for case files (git runs: cmtool merge-driver %O %A %B %P)."""
        from cmtool.services.merge import merge_files

        outcome = merge_files(base, ours, theirs, path)
        if not outcome.merged:
            common.warn(
                f"cmtool: cannot merge {path}: {outcome.reason}; conflict markers "
                "left for a person (see docs/team.md)"
            )
            raise typer.Exit(1)
        for contest in outcome.contests:
            common.warn(f"cmtool: {path}: contested {contest.describe()}")

    @app.command(rich_help_panel="Team")
    def install(workspace: WorkspaceOpt = None, actor: ActorOpt = None, now: NowOpt = None) -> None:
        """Register the case-file merge driver and git settings in this clone."""
        from cmtool.services.doctor import install as run_install

        changed = run_install(context(workspace, actor, now))
        echo("registered: " + ", ".join(changed) if changed else "already registered")

    @app.command(rich_help_panel="Team")
    def doctor(
        repair: Annotated[
            bool,
            typer.Option("--repair", help="Put right what is found (nothing is lost; see docs/team.md)."),
        ] = False,
        workspace: WorkspaceOpt = None,
        now: NowOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Explain what an interrupted command left behind; --repair puts it right.

        Exit 0 when all is well (or repaired), 1 when something still needs doing."""
        from cmtool.services.doctor import doctor as run_doctor

        report = run_doctor(context(workspace, None, now), repair)
        if as_json:
            common.print_json(
                {"findings": [f.to_dict() for f in report.findings], "unresolved": len(report.unresolved)}
            )
        elif not report.findings:
            echo("workspace is healthy")
        for finding in report.findings if not as_json else ():
            state = "repaired" if finding.repaired else "found"
            echo(f"{state}: {finding.code} {finding.message} ({finding.action})")
        if report.unresolved:
            raise typer.Exit(EXIT_FINDINGS)
