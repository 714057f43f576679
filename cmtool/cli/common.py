"""Options and output shared by every command."""

import io
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from cmtool.cli import completion
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
IdArg = Annotated[
    str,
    typer.Argument(
        help="Case ID or an unambiguous prefix of it.", autocompletion=completion.case_ids, show_default=False
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


def case_json(ctx: Any, case: Any) -> dict[str, Any]:
    """A case as JSON for whoever runs the command (``ctx``): fields their role may
    not read (privacy.need_to_know) masked, as `show` masks them."""
    from cmtool.services.need_to_know import masked_for

    return masked_for(ctx.ws, ctx.actor, case).to_dict()


def print_case(ctx: Any, case: Any, as_json: bool, message: str) -> None:
    """What a command that changed a case prints: ``message``, or with --json the
    case as its actor may read it."""
    if as_json:
        print_json(case_json(ctx, case))
    else:
        echo(message)


def print_json(data: Any) -> None:
    """Indented for a person on a terminal; compact when piped (json's C encoder only
    runs without indent, which matters for the thousands of findings a cron job reads)."""
    indent = 2 if is_terminal() else None
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=indent, default=str) + "\n")


def print_json_line(data: Any) -> None:
    """One compact JSON object on one line (JSON lines: a log a machine can read)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str, separators=(",", ":")) + "\n")


def print_rows(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    as_json: bool,
    as_csv: bool,
    title: str | None = None,
    short_ids: Mapping[str, str] | None = None,
) -> None:
    """A table on a terminal; tab-separated lines with a header when piped (so grep,
    cut, awk and sort work, as ``gh`` does); JSON or CSV when asked.

    ``short_ids`` maps case IDs to the shortest prefix that is still unambiguous in
    the workspace: a table shows those, so an ID fits on one line and can be typed."""
    if as_json:
        print_json(list(rows))
    elif as_csv:
        print_csv(rows, columns)
    elif is_terminal():
        print_table(rows, columns, title, short_ids)
    else:
        print_tsv(rows, columns)


def print_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> None:
    from cmtool.store.cellsafe import csv_writer

    buffer = io.StringIO()
    writer = csv_writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(k)) for k in columns])
    sys.stdout.write(buffer.getvalue())


def print_tsv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> None:
    """One line per row, fields split by tabs; a tab or line break inside a value
    becomes a space so every row stays one line. A spreadsheet opens a .tsv too, so
    formula-like text is neutralised as in CSV."""
    from cmtool.store.cellsafe import neutralise

    out = ["\t".join(columns)]
    out += ["\t".join(_one_line(_cell(neutralise(row.get(k)))) for k in columns) for row in rows]
    sys.stdout.write("\n".join(out) + "\n")


def _one_line(text: str) -> str:
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")


# Dropped first when a table is wider than the terminal: the columns a person can
# look up with `show` and that take the most room. The title shrinks last.
DROP_ORDER = ("customer", "channel", "filed_at", "category", "team", "assignee", "priority")


def print_table(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    title: str | None = None,
    short_ids: Mapping[str, str] | None = None,
) -> None:
    """Each row on one line: every column at its natural width, except free text,
    which takes what is left and ends in an ellipsis; wide columns are dropped
    (``DROP_ORDER``) until the rest fits the terminal."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(no_color=not color_enabled())
    rows = list(rows)
    ids = short_ids or {}
    # Escaped, and Text rather than markup: a customer's ESC sequence or "[red]" is shown, never obeyed.
    cells = [
        [Text(_one_line(escape_controls(_table_cell(c, row.get(c), ids)))) for c in columns] for row in rows
    ]
    widths = [max([len(c)] + [console.measure(r[i]).maximum for r in cells]) for i, c in enumerate(columns)]
    shown = _fit_columns(columns, widths, console.width)
    # Every column gets an explicit width (rich squeezes unsized columns to nothing
    # when a long free text asks for more than the terminal has): free text shares
    # what the other columns leave.
    fixed = sum(widths[i] for i in shown if columns[i] not in FREE_TEXT) + 2 * (len(shown) - 1)
    free = [i for i in shown if columns[i] in FREE_TEXT]
    room = max(FREE_TEXT_MIN, (console.width - fixed) // max(1, len(free)))
    table = Table(title=title, header_style="bold", box=None, pad_edge=False)
    for i in shown:
        flexible = columns[i] in FREE_TEXT
        table.add_column(
            columns[i].replace("_", " "),
            no_wrap=True,
            overflow="ellipsis",
            width=min(widths[i], room) if flexible else widths[i],
        )
    for row_cells in cells:
        table.add_row(*(row_cells[i] for i in shown))
    console.print(table)
    if not rows:
        console.print("(no rows)")


FREE_TEXT = ("title", "description", "snippet", "resolution", "message", "note")
FREE_TEXT_MIN = 24  # below this a title says too little to recognise a case


def _table_cell(column: str, value: Any, short_ids: Mapping[str, str]) -> str:
    """What a table shows: short IDs, and times to the minute as recorded."""
    if column == "id" and isinstance(value, str):
        return short_ids.get(value, value)
    text = _cell(value)
    if column.endswith("_at") and len(text) >= 16 and text[10] == "T":
        return text[:10] + " " + text[11:16]
    return text


def _fit_columns(columns: Sequence[str], widths: Sequence[int], width: int) -> list[int]:
    """Indexes of the columns to show: all that fit, dropping ``DROP_ORDER`` first,
    counting free text at its minimum width."""
    shown = list(range(len(columns)))

    def needed() -> int:
        body = sum(min(widths[i], FREE_TEXT_MIN) if columns[i] in FREE_TEXT else widths[i] for i in shown)
        return body + 2 * (len(shown) - 1)  # rich puts two spaces between columns

    for name in DROP_ORDER:
        if needed() <= width:
            break
        if name in columns and columns.index(name) in shown:
            shown.remove(columns.index(name))
    return shown


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


def skipped_files(workspace: Path | None) -> list:
    """The case files a read skipped, each told on stderr (path:line: CODE message):
    one broken file must not blind a listing or a sweep to every other case."""
    from cmtool.services.validation import skipped_case_files
    from cmtool.store.workspace import find_workspace

    problems = skipped_case_files(find_workspace(workspace))
    for problem in problems:
        warn(f"warning: skipped {problem}")
    if problems:
        warn("hint: every other case was read; fix the file (cmtool validate lists each problem)")
    return problems


def tell_owner(ctx, case) -> None:
    """Notify a case's new owner (rules.yaml notifications:); the action stands
    whatever happens to the message, and a failure is said on stderr."""
    from cmtool.services.notifications import notify_action

    report_deliveries(notify_action(ctx, case))


def report_deliveries(deliveries) -> None:
    for delivery in deliveries:
        d = delivery.to_dict()
        what = (
            f"{d['case_id']} {d['rung']}"
            if d["clock"] in (None, "-")
            else f"{d['case_id']} {d['clock']} {d['rung']}"
        )
        if delivery.status == "sent":
            warn(f"notified {d['recipient']} ({d['channel']}): {what}")
        elif delivery.status == "dry_run":
            warn(f"would notify {d['recipient']} ({d['channel']}): {what}: {d['subject']}")
        else:
            warn(
                f"warning: notification to {d['recipient']} ({d['channel']}) {delivery.status}: {d['error']}"
            )
