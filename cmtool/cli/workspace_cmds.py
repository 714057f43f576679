"""Commands about the workspace as a whole: init, validate, demo."""

from pathlib import Path
from typing import Annotated

import typer

from cmtool.cli.common import ActorOpt, JsonOpt, NowOpt, WorkspaceOpt, context, echo, print_json, warn
from cmtool.errors import EXIT_FINDINGS


def register(app: typer.Typer) -> None:
    @app.command(rich_help_panel="Workspace")
    def init(
        directory: Annotated[Path, typer.Argument(help="Folder for the new workspace.")],
        sample: Annotated[
            bool, typer.Option(help="Also copy the bundled sample cases (and the sample's people).")
        ] = False,
        person: Annotated[
            list[str] | None,
            typer.Option(
                help="A colleague as NAME[:ROLE[:TEAM]] (repeatable), e.g. ana:agent:service. "
                "Roles are checked once anyone is listed."
            ),
        ] = None,
        rules: Annotated[
            Path | None,
            typer.Option(help="Start from this rules.yaml (people included) instead of the bundled one."),
        ] = None,
        key_store: Annotated[
            str | None,
            typer.Option(
                help="Seal personal data with keys kept in this file, outside the workspace "
                "(e.g. on a team share), or ${VARIABLE} naming it, or plugin:NAME for an installed "
                "key manager. See docs/privacy.md."
            ),
        ] = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
    ) -> None:
        """Create a workspace: a git repository with rules.yaml, templates/ and cases/.

        rules.yaml starts with no people (nothing is role-checked) unless --person
        names them; add colleagues later with `cmtool people add`."""
        from cmtool.services.workspace_ops import create_workspace
        from cmtool.store.rulesedit import PersonSpec

        people = [PersonSpec.parse(text) for text in person or []]
        ws = create_workspace(directory, actor, now, sample, people, rules, key_store)
        echo(f"workspace ready at {ws.root}")

    people_app = typer.Typer(help="The people of rules.yaml: who may act, in which role and team.")
    app.add_typer(people_app, name="people", rich_help_panel="Workspace")

    @people_app.command("add")
    def people_add(
        person: Annotated[
            list[str], typer.Argument(help="NAME[:ROLE[:TEAM]], e.g. ana:agent:service (role default agent).")
        ],
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
    ) -> None:
        """Add colleagues to people: in rules.yaml (and to their team's members), one commit."""
        from cmtool.services.people import add
        from cmtool.store.rulesedit import PersonSpec

        specs = [PersonSpec.parse(text) for text in person]
        add(context(workspace, actor, now), specs)
        for spec in specs:
            echo(f"added {spec.name} ({spec.role}{', team ' + spec.team if spec.team else ''})")

    @app.command(rich_help_panel="Workspace")
    def validate(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
        """Check every case file and rules.yaml; exit 1 when anything is wrong."""
        from cmtool.services.validation import fixes, validate_workspace
        from cmtool.store.workspace import find_workspace

        ws = find_workspace(workspace)
        checked, problems = validate_workspace(ws)
        if as_json:
            print_json({"checked": checked, "problems": [p.to_dict() for p in problems]})
        else:
            for problem in problems:
                echo(str(problem))
            for line in fixes(ws, problems):
                warn(line)
            summary = f"{checked} case files checked, {len(problems)} problems"
            (warn if problems else echo)(summary)
        if problems:
            raise typer.Exit(EXIT_FINDINGS)

    @app.command(rich_help_panel="Workspace")
    def demo(
        directory: Annotated[Path, typer.Argument(help="Folder to build the demo in.")] = Path("cmtool-demo"),
        now: NowOpt = None,
    ) -> None:
        """Build a demo workspace from the bundled sample and run the main job on it."""
        from cmtool.services.demo import run_demo

        for line in run_demo(directory, now):
            echo(line)
