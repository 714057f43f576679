"""`cmtool letter`: letters to the customer, with each regulator's wording."""

from pathlib import Path
from typing import Annotated

import typer

from cmtool.cli.common import ActorOpt, IdArg, NowOpt, WorkspaceOpt, context, echo, warn


def register(app: typer.Typer) -> None:
    @app.command(rich_help_panel="Cases")
    def letter(
        case_id: IdArg,
        kind: Annotated[
            str, typer.Option("--kind", help="ack (acknowledgement), holding (reply), or final.")
        ],
        language: Annotated[
            str | None, typer.Option(help="en or zh (default: zh for Chinese regimes, else en).")
        ] = None,
        fmt: Annotated[
            str, typer.Option("--format", "-f", help="md, or html (prints as a letter: PDF-ready).")
        ] = "md",
        output: Annotated[
            Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
        ] = None,
        reason: Annotated[
            str | None, typer.Option(help="holding: why the final response takes longer.")
        ] = None,
        send: Annotated[
            bool, typer.Option("--send", help="E-mail it to the case's contact (notifications.email).")
        ] = False,
        preview: Annotated[
            bool, typer.Option("--preview", help="Render only: record nothing, send nothing.")
        ] = False,
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
    ) -> None:
        """Write a letter to the customer from templates/letters/ and record it on the case
        (a contact event with the letter's sha256: an acknowledgement stops the first-response
        clock, a holding reply the holding-reply clock)."""
        from cmtool.services import letters

        if fmt not in letters.FORMATS:
            raise typer.BadParameter(f"{fmt!r}: use md or html", param_hint="--format")
        ctx = context(workspace, actor, now)
        made = letters.render_letter(ctx, case_id, kind, language, reason)
        if not preview:
            letters.refuse_masked(made)
        text = made.as_html() if fmt == "html" else made.text
        if output is not None:
            output.write_text(text, encoding="utf-8")
        elif not send:
            echo(text.rstrip("\n"))
        if preview:
            return
        sent_to = None
        if send:
            subject = f"{made.case_id}: {letters.TITLES[made.kind]}"
            sent_to = letters.send_letter(ctx, made, subject)
        letters.record_letter(ctx, made, sent=sent_to is not None)
        warn(
            f"{made.case_id}: {letters.TITLES[made.kind]} recorded (sha256 {made.sha256[:12]})"
            + (f", sent to {sent_to}" if sent_to else "")
        )
