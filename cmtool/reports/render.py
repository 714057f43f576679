"""Rendering one report template to Markdown, Excel or CSV."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import tzinfo
from pathlib import Path
from typing import IO, Any

from cmtool.reports.csvout import write_csv
from cmtool.reports.jinja_env import make_environment, render
from cmtool.reports.library import ReportTemplate, check_format
from cmtool.reports.sheetspec import parse_spec

Tick = Callable[[int], None]


def render_text(template: ReportTemplate, fmt: str, context: dict[str, Any], tick: Tick | None = None) -> str:
    """Markdown or CSV as text."""
    file = check_format(template, fmt)
    where = f"templates/reports/{template.name}/{file}"
    if fmt in ("md", "html"):
        env = make_environment([template.folder], markdown=fmt == "md", html=fmt == "html")
        return render(env, file, context, where)
    env = make_environment([template.folder])
    spec = parse_spec(render(env, file, context, where), where)
    buffer = io.StringIO(newline="")
    write_csv(spec, env, context, buffer, where, template.csv_sheet, tick)
    return buffer.getvalue()


def render_workbook(
    template: ReportTemplate,
    context: dict[str, Any],
    target: Path,
    zone: tzinfo,
    tick: Tick | None = None,
) -> None:
    from cmtool.reports.excel import write_workbook  # its spreadsheet library: only when needed

    file = check_format(template, "xlsx")
    where = f"templates/reports/{template.name}/{file}"
    env = make_environment([template.folder])
    spec = parse_spec(render(env, file, context, where), where)
    write_workbook(spec, env, context, target, zone, where, tick)


def write_text(text: str, handle: IO[str]) -> None:
    handle.write(text)
