"""Commands that show cases: list, show."""

from __future__ import annotations

from typing import Annotated

import typer

from cmtool.cli.common import CsvOpt, JsonOpt, WorkspaceOpt, echo, print_json, print_rows

AsOfOpt = Annotated[str | None, typer.Option(
    "--as-of", help="As it stood then: a date (end of day), a time, or a commit/tag.",
    show_default=False)]  # fmt: skip


def register(app: typer.Typer) -> None:
    @app.command("list", rich_help_panel="Cases")
    def list_cmd(
        status: Annotated[str | None, typer.Option(help="open (every status before resolved), "
                                                   "done, or statuses, comma-separated.")] = None,  # fmt: skip
        assignee: Annotated[str | None, typer.Option()] = None,
        priority: Annotated[str | None, typer.Option()] = None,
        category: Annotated[str | None, typer.Option()] = None,
        channel: Annotated[str | None, typer.Option()] = None,
        sort: Annotated[str, typer.Option(help="Fields to sort by, comma-separated; "
                                          "-field for descending.")] = "id",  # fmt: skip
        limit: Annotated[int | None, typer.Option(help="At most this many rows.")] = None,
        as_of: AsOfOpt = None,
        workspace: WorkspaceOpt = None, as_json: JsonOpt = False, as_csv: CsvOpt = False,
    ) -> None:
        """List cases: a table on a terminal, JSON when piped or with --json, CSV with --csv."""
        from cmtool.services import query
        from cmtool.store.catalog import case_rows
        from cmtool.store.workspace import find_workspace

        ws = find_workspace(workspace)
        statuses = query.parse_statuses(status)
        case_filter = query.CaseFilter(statuses, assignee, priority, category, channel)
        if as_of:  # the cases as they stood then, rebuilt from git history
            from cmtool.services.asof import cases_as_of

            rows = [query.summary_row(c) for c in cases_as_of(ws, as_of, statuses or None)]
        else:
            rows = case_rows(ws, statuses or None)
        chosen = query.select(rows, case_filter, sort.split(","), limit)
        print_rows(chosen, query.LIST_COLUMNS, as_json, as_csv)

    @app.command(rich_help_panel="Cases")
    def show(
        case_id: Annotated[str, typer.Argument(help="Case ID or an unambiguous prefix.")],
        as_of: AsOfOpt = None,
        workspace: WorkspaceOpt = None, as_json: JsonOpt = False,
    ) -> None:
        """Show one case with its timeline."""
        from cmtool.store.casefiles import load_case, resolve_id
        from cmtool.store.workspace import find_workspace

        ws = find_workspace(workspace)
        if as_of:
            from cmtool.services.asof import case_as_of

            case = case_as_of(ws, case_id, as_of)
        else:
            case, _ = load_case(ws, resolve_id(ws, case_id))
        if as_json:
            print_json(case.to_dict())
            return
        echo(render_case(case))


def render_case(case) -> str:
    from cmtool.model.fields import FIELD_NAMES

    width = max(len(n) for n in FIELD_NAMES)
    lines = [f"{case.id}  {case.get('title')}", ""]
    for name in FIELD_NAMES:
        value = case.state.get(name)
        if value in (None, [], {}) or name in ("title", "description"):
            continue
        if isinstance(value, list):
            value = ", ".join(map(str, value))
        lines.append(f"  {name:<{width}}  {value}")
    if case.get("description"):
        lines += ["", "  " + case.get("description").rstrip().replace("\n", "\n  ")]
    lines += ["", "Timeline:"]
    for event in case.events:
        changed = ", ".join(
            f"{k}: {_short(old)} -> {_short(new)}"
            for k, (old, new) in event.changes.items()
            if event.action != "file" or k in ("status",)
        )
        lines.append(f"  {event.at}  {event.actor:<10} {event.action:<10} {changed}")
        if event.note:
            lines.append(f"{'':<38}\u201c{event.note.strip()}\u201d")
    return "\n".join(lines)


def _short(value) -> str:
    text = "-" if value is None else str(value)
    return text if len(text) <= 40 else text[:37] + "..."
