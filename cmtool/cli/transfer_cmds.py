"""Spreadsheet transfer: import and export."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from cmtool.cli.common import (
    ActorOpt,
    JsonOpt,
    NowOpt,
    WorkspaceOpt,
    context,
    echo,
    print_json,
    warn,
)
from cmtool.errors import EXIT_FINDINGS, UsageError

SHOWN_REJECTS = 20


def register(app: typer.Typer) -> None:
    @app.command("import", rich_help_panel="Transfer")
    def import_cmd(
        file: Annotated[Path, typer.Argument(help=".xlsx, .csv or .tsv file.", show_default=False)],
        sheet: Annotated[
            str | None, typer.Option(help="Sheet of an .xlsx (default: the first that holds anything).")
        ] = None,
        mapping: Annotated[
            Path | None, typer.Option(help="YAML mapping that overrides or completes the automatic one.")
        ] = None,
        show_mapping: Annotated[
            bool,
            typer.Option(
                "--show-mapping", help="Print the mapping that would be used, as an editable file, and stop."
            ),
        ] = False,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Decide everything, write nothing (except --rejects).")
        ] = False,
        update: Annotated[
            bool, typer.Option("--update", help="Apply changed rows of cases imported before, as events.")
        ] = False,
        dayfirst: Annotated[bool, typer.Option("--dayfirst", help="Read 03/04/2020 as 3 April.")] = False,
        monthfirst: Annotated[bool, typer.Option("--monthfirst", help="Read 03/04/2020 as March 4.")] = False,
        rejects: Annotated[
            Path | None, typer.Option(help="Write the rows not taken, with the reason, to this CSV.")
        ] = None,
        encoding: Annotated[
            str | None, typer.Option(help="Text encoding of a CSV (default: detected).")
        ] = None,
        timezone: Annotated[
            str | None,
            typer.Option(
                help="Time zone of times written without an offset, e.g. Asia/Shanghai "
                "(default: the zone of the workspace's business calendar)."
            ),
        ] = None,
        no_rules: Annotated[
            bool,
            typer.Option(
                "--no-rules",
                help="Do not put new cases through rules.yaml (classification, priority, regimes, routing).",
            ),
        ] = False,
        owner_map: Annotated[
            Path | None,
            typer.Option(help="YAML file mapping the sheet's owner names to people, e.g. 'Ann Lee: ann'."),
        ] = None,
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Import complaints from a spreadsheet: one case per row, one commit.

        Exit code 1 when rows were rejected (they are listed; nothing is taken silently).
        """
        from cmtool.services import importer

        if dayfirst and monthfirst:
            raise UsageError("give --dayfirst or --monthfirst, not both")
        order = "dayfirst" if dayfirst else "monthfirst" if monthfirst else None
        options = importer.Options(
            mapping, sheet, order, encoding, dry_run, update, rejects, timezone, not no_rules, owner_map
        )
        if show_mapping:
            from cmtool.services.context import resolve_now

            sys.stdout.write(importer.show_mapping(file, options, resolve_now(now)))
            return
        with _progress() as progress:
            report = importer.import_file(context(workspace, actor, now), file, options, progress)
        if as_json:
            print_json(report.to_dict())
        else:
            for line in summary_lines(report, rejects):
                echo(line)
        if report.rejected:
            raise typer.Exit(EXIT_FINDINGS)

    register_export(app)


def summary_lines(report, rejects_path: Path | None) -> list[str]:
    where = f"{report.file}" + (f" (sheet {report.sheet})" if report.sheet else "")
    verb = "would import" if report.dry_run else "imported"
    lines = [
        f"{verb} {len(report.imported)} new cases from {where}; "
        f"{report.already_present} already present ({len(report.updated)} updated)"
    ]
    lines.append(
        f"rows: {report.data_rows} = {len(report.imported)} new + {len(report.updated)} "
        f"updated + {report.unchanged} unchanged + {len(report.duplicates)} duplicates "
        f"+ {len(report.rejected)} rejected"
    )
    lines += [f"  {decision}" for decision in report.decisions]
    if report.dry_run:
        lines.append("columns:")
        for column in report.columns:
            why = f" ({column['why']})" if column["why"] else ""
            shown = ", ".join(repr(s) for s in column["samples"]) or "(empty)"
            lines.append(f"  {column['column']!r} -> {column['target']}{why}; e.g. {shown}")
    lines += report.categories
    if report.new_categories:
        verb = "would add" if report.dry_run else "added"
        lines.append(
            f"{verb} {len(report.new_categories)} categories to rules.yaml: "
            + ", ".join(f"{key} ({label!r})" for key, label in report.new_categories.items())
        )
    if report.unknown_owners:
        names = sorted(report.unknown_owners.items(), key=lambda item: -item[1])
        lines.append(
            "owners who are not people in rules.yaml (kept under extra; the cases were routed instead): "
            + ", ".join(f"{name!r} ({rows} rows)" for name, rows in names[:SHOWN_REJECTS])
            + ("" if len(names) <= SHOWN_REJECTS else f", ... {len(names) - SHOWN_REJECTS} more")
        )
        lines.append(
            "  map them with --owner-map FILE (sheet name: person), or add them with cmtool people add NAME"
        )
    if report.incomplete:
        lines.append(
            f"{report.incomplete} records without a title or description were imported with a built title "
            "and tagged incomplete"
        )
    listed = sorted(report.duplicates + report.rejected, key=lambda r: r.row)
    for reject in listed[:SHOWN_REJECTS]:
        lines.append(f"  row {reject.row}: {reject.code} {reject.reason}")
    if len(listed) > SHOWN_REJECTS:
        lines.append(
            f"  ... and {len(listed) - SHOWN_REJECTS} more"
            + ("" if rejects_path else "; list them all with --rejects FILE")
        )
    if rejects_path and listed:
        lines.append(f"rejected rows written to {rejects_path}")
    if report.dry_run:
        lines.append("dry run: nothing written")
    elif report.commit:
        lines.append(f"commit {report.commit[:12]}")
    return lines


class _progress:
    """A rich progress bar on a terminal (stderr), nothing otherwise."""

    def __enter__(self):
        if not sys.stderr.isatty():
            return None
        from rich.console import Console
        from rich.progress import Progress

        self.bar = Progress(console=Console(stderr=True), transient=True)
        self.bar.start()
        self.tasks: dict[str, object] = {}
        return self.update

    def update(self, stage: str, done: int, total: int) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.bar.add_task(stage, total=total)
        self.bar.update(self.tasks[stage], completed=done, total=total)

    def __exit__(self, *exc) -> None:
        if hasattr(self, "bar"):
            self.bar.stop()


def register_export(app: typer.Typer) -> None:
    @app.command("export", rich_help_panel="Transfer")
    def export_cmd(
        fmt: Annotated[
            str | None,
            typer.Option(
                "--format",
                "-f",
                help="xlsx, csv, json or parquet (default: from -o's extension, else csv).",
            ),
        ] = None,
        output: Annotated[
            Path | None,
            typer.Option(
                "--output",
                "-o",
                help="File to write (default: stdout; xlsx needs a file; parquet a folder).",
            ),
        ] = None,
        since: Annotated[
            str | None,
            typer.Option(
                help="parquet: only the cases changed since this commit, or since the export "
                "in this .parquet file.",
                show_default=False,
            ),
        ] = None,
        status: Annotated[str | None, typer.Option(help="open, done, or statuses, comma-separated.")] = None,
        assignee: Annotated[str | None, typer.Option()] = None,
        priority: Annotated[str | None, typer.Option()] = None,
        category: Annotated[str | None, typer.Option()] = None,
        channel: Annotated[str | None, typer.Option()] = None,
        show_pii: Annotated[
            bool,
            typer.Option(
                "--show-pii",
                help="Open the personal fields your role may read (masked by default); "
                "each case whose personal data goes out records a privacy_export event.",
            ),
        ] = False,
        workspace: WorkspaceOpt = None,
        actor: ActorOpt = None,
        now: NowOpt = None,
    ) -> None:
        """Export cases: one row per case with SLA state; xlsx adds an Events sheet;
        parquet writes a table of cases and one of events into a folder. Personal
        fields (privacy.personal in rules.yaml) read [masked] unless --show-pii."""
        from cmtool.services import query
        from cmtool.services.personal_export import export_for

        case_filter = query.case_filter(status, assignee, priority, category, channel)
        ctx = context(workspace, actor, now)
        if (fmt or "").lower() == "parquet" or (fmt is None and output and output.suffix == ".parquet"):
            _export_parquet(ctx, output, case_filter, since, show_pii)
            return
        if since:
            raise UsageError("--since is for --format parquet")
        result = export_for(ctx, fmt, case_filter, ctx.now, output, show_pii)
        if result.text is not None:
            sys.stdout.write(result.text)
            return
        warn(f"exported {result.count} cases to {result.target}")


def _export_parquet(ctx, output: Path | None, case_filter, since: str | None, show_pii: bool) -> None:
    from cmtool.services.export_parquet import export_parquet

    if output is None:
        raise UsageError("a parquet export needs a folder: -o DIR")
    done = export_parquet(ctx, output, case_filter, since, show_pii)
    what = f"{done.cases} cases" + (f" and {done.removed} removed" if done.removed else "")
    base = f" changed since {done.since[:12]}" if done.since else ""
    warn(
        f"exported {what}{base} ({done.events} events) at commit {done.commit.sha[:12]} "
        f"(generation {done.commit.generation}) to {done.files[0]} and {done.files[1]}"
    )
    if done.masked:
        warn(f"masked: {', '.join(sorted(done.masked))}" + ("" if show_pii else " (open with --show-pii)"))
