"""Evaluating a sheet specification against a report context: the rows of each
sheet and the value of each cell, shared by the Excel and CSV writers."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from jinja2.sandbox import ImmutableSandboxedEnvironment

from cmtool.errors import DataError
from cmtool.reports.jinja_env import compile_expression
from cmtool.reports.sheetspec import Sheet

_ROW_FIELD = re.compile(r"^\s*row\.([A-Za-z][A-Za-z0-9_]*)\s*$")

Getter = Callable[[Any, dict[str, Any]], Any]


def sheet_rows(
    env: ImmutableSandboxedEnvironment, sheet: Sheet, context: dict[str, Any], where: str
) -> Sequence[Any]:
    rows = compile_expression(env, sheet.rows, f"{where}: sheet {sheet.name!r}: rows")(**context)
    if rows is None:
        return []
    if isinstance(rows, (dict, str)) or not isinstance(rows, Sequence):
        raise DataError(f"{where}: sheet {sheet.name!r}: rows: {sheet.rows!r} is not a list")
    return rows


def column_getters(env: ImmutableSandboxedEnvironment, sheet: Sheet, where: str) -> list[Getter]:
    """One function per column: ``(row, context) -> value``. ``row.field`` is read
    directly (most columns, and the hot path on 100k rows); anything else is a
    sandboxed Jinja expression that sees ``row`` and ``ctx`` (the whole context)."""
    getters: list[Getter] = []
    for column in sheet.columns:
        simple = _ROW_FIELD.match(column.value)
        if simple:
            getters.append(_field_getter(simple.group(1)))
        else:
            label = f"{where}: sheet {sheet.name!r}: column {column.header!r}"
            evaluate = compile_expression(env, column.value, label)
            getters.append(lambda row, ctx, evaluate=evaluate: evaluate(row=row, ctx=ctx))
    return getters


def _field_getter(name: str) -> Getter:
    def get(row: Any, _ctx: dict[str, Any]) -> Any:
        if isinstance(row, dict):
            return row.get(name)
        return None

    return get


def iter_cells(
    rows: Sequence[Any], getters: Sequence[Getter], context: dict[str, Any]
) -> Iterator[list[Any]]:
    for row in rows:
        yield [get(row, context) for get in getters]
