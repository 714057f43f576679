"""`cmtool undo`: revert the last action on a case with a new event."""

from typing import Annotated

import typer

from cmtool.cli.common import (
    ActorOpt,
    IdArg,
    JsonOpt,
    NowOpt,
    WorkspaceOpt,
    case_json,
    context,
    echo,
    print_json,
)


def register(app: typer.Typer) -> None:
    @app.command(rich_help_panel="Cases")
    def undo(
        case_id: IdArg,
        reason: Annotated[str | None, typer.Option(help="Why (kept in the event).")] = None,
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Revert the last action on a case: a new event puts back what it changed and
        names the event it reverts. History keeps both; run it again to go further back."""
        from cmtool.services.undo import undo as undo_last

        ctx = context(workspace, actor, now)
        case, reverted = undo_last(ctx, case_id, reason)
        if as_json:
            print_json({**case_json(ctx, case), "reverted_event": reverted})
        else:
            action = case.events[reverted - 1].action
            echo(f"{case.id}: undid event {reverted} ({action}); now {case.status.value}")
