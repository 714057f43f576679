"""Survey commands: record an answer, list (and render) due invitations, import answers."""

from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from cmtool.cli.common import (
    ActorOpt,
    IdArg,
    JsonOpt,
    NowOpt,
    WorkspaceOpt,
    echo,
    is_terminal,
    print_json,
    print_rows,
    warn,
)
from cmtool.errors import EXIT_FINDINGS

DUE_COLUMNS = ("case_id", "customer", "contact", "closed_at", "category", "title")


class _DefaultToRecord(TyperGroup):
    """``cmtool survey C-... --csat 4`` means ``cmtool survey record C-... --csat 4``."""

    def parse_args(self, ctx, args):  # type: ignore[no-untyped-def]
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["record", *args]
        return super().parse_args(ctx, args)


def register(app: typer.Typer) -> None:
    survey_app = typer.Typer(
        cls=_DefaultToRecord,
        help="Satisfaction surveys: cmtool survey ID --csat 4 --nps 9 records an answer; "
        "due lists whom to invite; import takes answers from a CSV.",
        no_args_is_help=True,
    )
    app.add_typer(survey_app, name="survey", rich_help_panel="Cases")

    @survey_app.command("record")
    def record(
        case_id: IdArg,
        csat: Annotated[int | None, typer.Option(help="Satisfaction 1-5.", show_default=False)] = None,
        nps: Annotated[
            int | None, typer.Option(help="Likelihood to recommend 0-10.", show_default=False)
        ] = None,
        comment: Annotated[str | None, typer.Option(help="The customer's words.", show_default=False)] = None,
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Record an answer on a resolved or closed case (also: cmtool survey ID --csat 4)."""
        from cmtool.cli.common import context, print_case
        from cmtool.services.survey import record_survey

        ctx = context(workspace, actor, now)
        case = record_survey(ctx, case_id, csat, nps, comment)
        print_case(
            ctx,
            case,
            as_json,
            f"{case.id} survey recorded (CSAT {case.get('csat', '-')}, NPS {case.get('nps', '-')})",
        )

    @survey_app.command("due")
    def due(
        render: Annotated[
            str | None,
            typer.Option(
                "--render",
                help="Write each invitation to DIR/<case>.txt, or '-' for stdout.",
                show_default=False,
            ),
        ] = None,
        mark_sent: Annotated[
            bool,
            typer.Option(
                "--mark-sent",
                help="Record the invitations as sent (one commit), so they are not listed again.",
            ),
        ] = False,
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Cases whose survey should be sent now (rules.yaml survey: delay, cool-down).
        --json gives contact, subject and body for a mailer. Fields your role may not
        read (privacy.need_to_know) read [masked], and --render needs the customer
        and the contact."""
        from cmtool.cli.common import context
        from cmtool.rules.loader import read_rules
        from cmtool.services.need_to_know import hidden_for, masked_row, refuse_hidden
        from cmtool.services.survey import find_due, mark_invited, write_invitations

        run = context(workspace, actor, now)
        hidden = hidden_for(run.ws, run.actor)
        if render:  # an invitation names the customer and goes to their contact
            refuse_hidden(("customer", "contact"), hidden, "--render writes")
        due_list = find_due(run.ws, run.now, read_rules(run.ws.rules_path))
        # The invitation's body greets the customer: hidden with their name or contact.
        masked = hidden | ({"body"} if hidden & {"customer", "contact"} else set())
        rows = [masked_row(item.to_dict(), masked) for item in due_list]
        if render == "-":
            for item in due_list:
                echo(
                    f"--- {item.case_id} to {item.contact}\nSubject: {item.subject}\n\n{item.body.rstrip()}\n"
                )
        elif render:
            folder = Path(render)
            write_invitations(folder, due_list)
            warn(f"wrote {len(due_list)} invitation(s) to {folder}")
        if as_json or (not render and not is_terminal()):
            print_json(rows)
        elif not render:
            print_rows(
                rows,
                DUE_COLUMNS,
                False,
                False,
                title="surveys due",
            )
        if mark_sent and due_list:
            mark_invited(run, due_list)
            warn(f"recorded {len(due_list)} invitation(s) as sent")

    @survey_app.command("import")
    def import_cmd(
        file: Annotated[
            Path, typer.Argument(help="CSV: case_id, csat, nps, comment, answered_at (any order).")
        ],
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Check only; write nothing.")] = False,
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Import survey answers collected elsewhere: one commit for all valid rows, and
        a line for each row it could not take (exit 1 if any)."""
        from cmtool.cli.common import context
        from cmtool.services.survey_import import import_answers

        result = import_answers(context(workspace, actor, now), file, dry_run)
        if as_json:
            print_json(
                {
                    "recorded": result.recorded,
                    "commit": result.commit,
                    "dry_run": dry_run,
                    "problems": [p.to_dict() for p in result.problems],
                }
            )
        else:
            for problem in result.problems:
                echo(str(problem))
            verb = "would record" if dry_run else "recorded"
            (warn if result.problems else echo)(
                f"{verb} {len(result.recorded)} answer(s); {len(result.problems)} row(s) refused"
            )
        if result.problems:
            raise typer.Exit(EXIT_FINDINGS)
