"""Options and output shared by every command."""

import csv
import io
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from cmtool.model.text import escape_controls

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        help="Workspace folder (default: the one around the current folder, or $CMTOOL_WORKSPACE).",
        show_default=False,
    ),
]
ActorOpt = Annotated[
    str | None,
    typer.Option(
        "--actor", help="Who acts (default: $CMTOOL_ACTOR, else git user.name).", show_default=False
    ),
]
NowOpt = Annotated[
    str | None,
    typer.Option(
        "--now", help="Pretend it is this ISO 8601 time (default: $CMTOOL_NOW, else now).", show_default=False
    ),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="As it stood then, rebuilt from git: a date (end of day), a time, or a commit/tag.",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="Print CSV.")]


def context(workspace: Path | None, actor: str | None = None, now: str | None = None):
    from cmtool.services.context import make_context

    return make_context(workspace, actor, now)


def is_terminal() -> bool:
    return sys.stdout.isatty()


def color_enabled() -> bool:
    return is_terminal() and not os.environ.get("NO_COLOR")


def print_json(data: Any) -> None:
    """Indented for a person on a terminal; compact when piped (json's C encoder only
    runs without indent, which matters for the thousands of findings a cron job reads)."""
    indent = 2 if is_terminal() else None
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=indent, default=str) + "\n")


def print_rows(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    as_json: bool,
    as_csv: bool,
    title: str | None = None,
) -> None:
    """A table on a terminal; JSON when asked or piped; CSV when asked."""
    if as_csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(row.get(k)) for k in columns})
        sys.stdout.write(buffer.getvalue())
        return
    if as_json or not is_terminal():
        print_json(list(rows))
        return
    print_table(rows, columns, title)


def print_table(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], title: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, show_lines=False, header_style="bold")
    for column in columns:
        table.add_column(column.replace("_", " "), overflow="fold")
    count = 0
    for row in rows:
        # Text, not markup: a customer's "[red]" or ESC sequence is shown, never obeyed.
        table.add_row(*(Text(escape_controls(_cell(row.get(column)))) for column in columns))
        count += 1
    console = Console(no_color=not color_enabled())
    console.print(table)
    if not count:
        console.print("(no rows)")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def for_terminal(text: str, stream: Any = None) -> str:
    """``text`` with control characters escaped when it goes to a terminal (an ESC
    sequence in a product name must not retitle or clear it); unchanged in a pipe."""
    return escape_controls(text) if (stream or sys.stdout).isatty() else text


def echo(message: str) -> None:
    typer.echo(for_terminal(message))


def warn(message: str) -> None:
    typer.echo(for_terminal(message, sys.stderr), err=True)
