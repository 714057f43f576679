"""`cmtool intake mail`: complaints from a mailbox."""

from pathlib import Path
from typing import Annotated

import typer

from cmtool.cli.common import JsonOpt, NowOpt, WorkspaceOpt, context, echo, print_json

intake_app = typer.Typer(help="Take complaints in from other channels (e-mail).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(intake_app, name="intake", rich_help_panel="Cases")


@intake_app.command("mail")
def mail(
    maildir: Annotated[
        Path | None, typer.Option(help="Read this Maildir folder.", show_default=False)
    ] = None,
    mbox: Annotated[Path | None, typer.Option(help="Read this mbox file.", show_default=False)] = None,
    imap: Annotated[
        bool, typer.Option("--imap", help="Read unseen mail of the IMAP mailbox in rules.yaml intake.mail.")
    ] = False,
    workspace: WorkspaceOpt = None,
    actor: Annotated[
        str | None, typer.Option("--actor", help="Who acts (default: mail-intake, a system actor).")
    ] = None,
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """File each new e-mail as a case (channel email) and each reply naming a case ID as a
    customer note on it, in one commit; a message already taken (same Message-ID) is never
    taken again; auto-replies and bounces are skipped and listed. Made for cron.

    Exit codes: 0 done (also when nothing was new), 2 bad options or settings."""
    from cmtool.intake.mail import run
    from cmtool.model.registry import MAIL_INTAKE_ACTOR

    report = run(context(workspace, actor or MAIL_INTAKE_ACTOR, now), maildir, mbox, imap)
    if as_json:
        print_json(
            {
                "filed": report.filed,
                "replies": report.replies,
                "duplicates": report.duplicates,
                "skipped": [{"source": s, "reason": r} for s, r in report.skipped],
                "not_kept": [{"case": c, "file": f, "bytes": n} for c, f, n in report.not_kept],
                "commit": report.commit,
            }
        )
        return
    for case_id in report.filed:
        echo(f"filed {case_id}")
    for case_id in report.replies:
        echo(f"reply {case_id}")
    for source, reason in report.skipped:
        echo(f"skipped {source}: {reason}")
    for case_id, name, size in report.not_kept:
        echo(f"not kept {case_id}: {name} ({size:,} bytes, over attachments.max_size_mb)")
    echo(
        f"{len(report.filed)} filed, {len(report.replies)} repl{'y' if len(report.replies) == 1 else 'ies'}, "
        f"{len(report.duplicates)} already taken, {len(report.skipped)} skipped"
    )
