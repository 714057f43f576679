"""Sheet specifications: what an Excel (or CSV) report looks like, as YAML.

A report's ``*.sheets.yaml.j2`` template is rendered by Jinja first (titles,
wording, which sheets exist), then read as YAML into the specification below.
Data never passes through the YAML text: a sheet names its rows with an
expression (``rows: volumes.by_category``) and each column says how to get its
cell from a row (``value: row.received``), evaluated in the sandbox for each row.
So a complaint text cannot break the YAML, and cells keep their types (numbers
stay numbers, times become Excel dates).

    sheets:
      - name: By category            # at most 31 characters, no []:*?/\\
        rows: volumes.by_category    # a list in the report context
        freeze: A2                   # default: the row under the header
        columns:
          - {header: Category, value: row.key, width: 24}
          - {header: Received, value: row.received, format: "#,##0", total: sum}
        totals: Total                # label of a totals row (columns with total:)
        filter: true                 # an autofilter on the header row
        chart: {type: bar, title: Complaints per category, categories: Category,
                values: [Received], anchor: E2}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from cmtool.errors import DataError
from cmtool.store.yamlsafe import load_checked

CHART_TYPES = ("bar", "column", "line", "pie")
TOTALS = ("sum", "count", "average", "min", "max")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_CELL = re.compile(r"^[A-Z]{1,3}[1-9][0-9]*$")


@dataclass(frozen=True)
class Column:
    header: str
    value: str  # a Jinja expression; ``row`` is the current row
    width: float | None = None
    format: str | None = None  # an Excel number format
    total: str | None = None  # sum, count, average, min, max


@dataclass(frozen=True)
class Chart:
    type: str
    title: str
    categories: str  # header of the column with the labels
    values: tuple[str, ...]  # headers of the columns to plot
    anchor: str | None = None
    y_title: str | None = None
    x_title: str | None = None


@dataclass(frozen=True)
class Sheet:
    name: str
    rows: str  # a Jinja expression giving a list of rows
    columns: tuple[Column, ...]
    freeze: str | None = "A2"
    totals: str | None = None
    chart: Chart | None = None
    filter: bool = False  # an autofilter on the header row (sheets of cases or events)


@dataclass(frozen=True)
class WorkbookSpec:
    sheets: tuple[Sheet, ...]
    properties: dict[str, str]


def parse_spec(text: str, where: str) -> WorkbookSpec:
    """Read a rendered specification; every problem is reported at once."""
    try:
        data = load_checked(text)  # a template from another clone may render an alias bomb
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise DataError(f"{where} (rendered){line}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    problems: list[str] = []
    if not isinstance(data, dict) or not isinstance(data.get("sheets"), list) or not data["sheets"]:
        raise DataError(f"{where}: needs a list of sheets (sheets: - name: ...)")
    sheets = []
    names: set[str] = set()
    for index, item in enumerate(data["sheets"], 1):
        sheet = _sheet(item, f"sheet {index}", problems)
        if sheet is not None:
            if sheet.name.lower() in names:
                problems.append(f"sheet {index}: a second sheet named {sheet.name!r}")
            names.add(sheet.name.lower())
            sheets.append(sheet)
    if problems:
        raise DataError(f"{where}: " + "; ".join(problems))
    properties = data.get("properties") or {}
    if not isinstance(properties, dict):
        raise DataError(f"{where}: properties must map names to text")
    return WorkbookSpec(tuple(sheets), {str(k): str(v) for k, v in properties.items()})


def _sheet(item: Any, label: str, problems: list[str]) -> Sheet | None:
    if not isinstance(item, dict):
        problems.append(f"{label}: must be a mapping with name, rows and columns")
        return None
    name = str(item.get("name") or "")
    label = f"sheet {name!r}" if name else label
    if not name or len(name) > 31 or _BAD_SHEET_CHARS.search(name):
        problems.append(f"{label}: a sheet name is 1-31 characters without []:*?/\\")
    if not isinstance(item.get("rows"), str) or not item["rows"].strip():
        problems.append(f"{label}: rows: must be an expression naming a list")
    columns = []
    for index, raw in enumerate(item.get("columns") or [], 1):
        if not isinstance(raw, dict) or "header" not in raw or "value" not in raw:
            problems.append(f"{label}: column {index} needs header and value")
            continue
        total = raw.get("total")
        if total is not None and total not in TOTALS:
            problems.append(f"{label}: column {raw['header']!r}: total must be one of {', '.join(TOTALS)}")
        width = raw.get("width")
        if width is not None and not isinstance(width, (int, float)):
            problems.append(f"{label}: column {raw['header']!r}: width must be a number")
            width = None
        columns.append(
            Column(
                str(raw["header"]),
                str(raw["value"]),
                width,
                None if raw.get("format") is None else str(raw["format"]),
                total,
            )
        )
    if not columns:
        problems.append(f"{label}: needs at least one column")
    freeze = item.get("freeze", "A2")
    if freeze is not None and not _CELL.match(str(freeze)):
        problems.append(f"{label}: freeze must be a cell like A2 (or null)")
    chart = _chart(item.get("chart"), label, {c.header for c in columns}, problems)
    totals = item.get("totals")
    return Sheet(
        name,
        str(item.get("rows") or ""),
        tuple(columns),
        None if freeze is None else str(freeze),
        None if totals in (None, False) else str(totals),
        chart,
        item.get("filter") is True,
    )


def _chart(raw: Any, label: str, headers: set[str], problems: list[str]) -> Chart | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        problems.append(f"{label}: chart must be a mapping")
        return None
    kind = raw.get("type", "bar")
    if kind not in CHART_TYPES:
        problems.append(f"{label}: chart type must be one of {', '.join(CHART_TYPES)}")
    values = raw.get("values") or []
    values = [values] if isinstance(values, str) else list(values)
    for header in [raw.get("categories"), *values]:
        if header not in headers:
            problems.append(f"{label}: chart names column {header!r}, which the sheet lacks")
    anchor = raw.get("anchor")
    if anchor is not None and not _CELL.match(str(anchor)):
        problems.append(f"{label}: chart anchor must be a cell like H2")
    return Chart(
        kind,
        str(raw.get("title") or ""),
        str(raw.get("categories")),
        tuple(str(v) for v in values),
        None if anchor is None else str(anchor),
        raw.get("y_title"),
        raw.get("x_title"),
    )
