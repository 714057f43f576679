"""`cmtool privacy erase|purge|report|export|migrate` (and `keygen`, `members`): personal data
(docs/privacy.md)."""

from pathlib import Path
from typing import Annotated

import typer

from cmtool.cli import privacy_key_cmds
from cmtool.cli.common import (
    ActorOpt,
    JsonOpt,
    NowOpt,
    WorkspaceOpt,
    context,
    echo,
    is_terminal,
    print_json,
    print_rows,
)

CustomerOpt = Annotated[
    str | None, typer.Option("--customer", help="The person's name or contact, as recorded (case ignored).")
]
CaseOpt = Annotated[list[str] | None, typer.Option("--case", help="A case of theirs (repeatable).")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Say what would happen; change nothing.")]
REPORT_COLUMNS = ("case_id", "customer", "status", "closed_at", "retention", "keep_until", "key")


def register(app: typer.Typer) -> None:
    privacy = typer.Typer(
        help="Personal data: erase a person, purge by retention, report what is held, export for a person; "
        "the members who can open the key store.",
        no_args_is_help=True,
    )
    app.add_typer(privacy, name="privacy", rich_help_panel="Workspace")

    @privacy.command("erase")
    def erase(
        legal_basis: Annotated[
            str,
            typer.Option(
                "--legal-basis",
                help="Why, as recorded in each case's history, e.g. 'GDPR art. 17(1)(a)'. No personal data.",
            ),
        ],
        customer: CustomerOpt = None,
        case: CaseOpt = None,
        dry_run: DryRunOpt = False,
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Erase a person: record the request in each of their cases, then destroy the
        cases' keys. Refused (exit 4) while a retention rule with hold: true keeps a
        case, unless your role is in privacy.erase_override."""
        from cmtool.services.privacy import erase as run

        if not customer and not case:
            raise typer.BadParameter("name the person with --customer, or their cases with --case")
        done = run(context(workspace, actor, now), customer, case or [], legal_basis, dry_run)
        _report(done, "would erase" if dry_run else "erased", as_json)

    @privacy.command("purge")
    def purge(
        dry_run: DryRunOpt = False,
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """For cron: destroy the keys of closed cases whose retention period
        (privacy.retention in rules.yaml) has ended. Quiet when none has."""
        from cmtool.services.privacy import purge as run

        done = run(context(workspace, actor, now), dry_run)
        _report(done, "would purge" if dry_run else "purged", as_json)

    @privacy.command("report")
    def report(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
        """What is held, about whom (masked), until when, and the state of each key."""
        from cmtool.services.privacy_records import held_records
        from cmtool.store.workspace import find_workspace

        where, rows = held_records(find_workspace(workspace))
        if as_json:
            print_json({"key_store": where, "cases": [r.to_dict() for r in rows]})
            return
        if is_terminal():  # a pipe gets the rows alone (--json has the key store too)
            echo(f"key store: {where}")
        print_rows([{"case_id": r.case_id, **r.to_dict()} for r in rows], REPORT_COLUMNS, False, False)

    @privacy.command("export")
    def export(
        customer: CustomerOpt = None,
        case: CaseOpt = None,
        out: Annotated[Path, typer.Option("--out", help="Folder for the JSON and Markdown files.")] = Path(
            "."
        ),
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
    ) -> None:
        """A subject access request: everything held about one person, opened, as JSON
        and a readable Markdown file, with the files attached to their cases. Each case
        records the export in its history."""
        from cmtool.services.privacy_records import export_subject

        if not customer and not case:
            raise typer.BadParameter("name the person with --customer, or their cases with --case")
        for path in export_subject(context(workspace, actor, now), customer, case or [], out):
            echo(str(path))

    @privacy.command("migrate")
    def migrate(
        rewrite_history: Annotated[
            bool,
            typer.Option(
                "--rewrite-history",
                help="Also re-seal every past commit (commit ids change; every clone must be replaced).",
            ),
        ] = False,
        confirm: Annotated[
            str, typer.Option("--confirm", help="The current HEAD's id: required by --rewrite-history.")
        ] = "",
        sign: Annotated[
            bool, typer.Option("--sign", help="Sign the seal that records the old head.")
        ] = False,
        dry_run: DryRunOpt = False,
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
    ) -> None:
        """Seal personal data written before this workspace had a key store: the current
        files in one commit; with --rewrite-history --confirm HEAD, every past commit too."""
        from cmtool.services import privacy_migrate

        ctx = context(workspace, actor, now)
        if rewrite_history:
            done = privacy_migrate.rewrite_history(ctx, confirm, sign)
            echo(f"history rewritten: old head {done.old_head}, new head {done.new_head}")
            echo(f"the old head is recorded in {done.seal}")
            for ref in done.other_refs:
                echo(f"  still holds the old history: {ref} (force-push the branch or delete the ref)")
            echo("every other clone and remote: see docs/privacy.md (after a history rewrite)")
            return
        report = privacy_migrate.seal_files(ctx, dry_run)
        verb = "would seal" if dry_run else "sealed"
        echo(f"{verb} {len(report.sealed)} case file(s) in place")
        if report.history_commits and report.new_head:
            echo(
                f"{report.history_commits} earlier commit(s) changed case files and may hold personal data "
                "in clear, which erasing a key cannot reach. To re-seal them too (commit ids change; every "
                "clone and remote must be replaced, see docs/privacy.md):\n"
                f"  cmtool privacy migrate --rewrite-history --confirm {report.new_head[:12]}"
            )

    privacy_key_cmds.register(privacy)


def _report(done, verb: str, as_json: bool) -> None:
    if as_json:
        print_json([{"case_id": d.case_id, "key_destroyed": d.key_destroyed, "rule": d.rule} for d in done])
    elif done:
        echo(f"{verb} {len(done)} case(s): {', '.join(d.case_id for d in done)}")
