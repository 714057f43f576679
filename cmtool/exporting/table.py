"""Cases as rows: the columns of an export and each case's values, typed (pure).

Columns: ``id``, the state fields in file order, the keys of the ``source`` and
``extra`` maps as ``source.<key>`` / ``extra.<key>`` (so ``cmtool import`` puts
them back), then the SLA clocks as ``sla.<clock>.state`` / ``sla.<clock>.due_at``
(derived: an import skips them). Times are aware datetimes; writers decide how
to show them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cmtool.model.case import Case
from cmtool.model.fields import FIELDS, FIELDS_BY_NAME
from cmtool.model.timefmt import parse_time

STATE_COLUMNS = tuple(f.name for f in FIELDS if f.kind != "map")
EVENT_COLUMNS = ("case_id", "at", "actor", "action", "changes", "note", "rule")


@dataclass(frozen=True)
class ExportTable:
    columns: tuple[str, ...]
    rows: list[dict[str, Any]]
    time_columns: frozenset[str]


def case_table(cases: Sequence[Case], clocks: Mapping[str, Iterable[Any]] | None = None) -> ExportTable:
    """One row per case. ``clocks`` maps a case ID to its SLA clock states."""
    map_keys: dict[str, dict[str, None]] = {"source": {}, "extra": {}}
    sla_names: dict[str, None] = {}
    rows = []
    for case in cases:
        row: dict[str, Any] = {"id": case.id}
        for name in STATE_COLUMNS:
            row[name] = _typed(name, case.state.get(name))
        for map_name, keys in map_keys.items():
            for key, value in (case.state.get(map_name) or {}).items():
                keys.setdefault(str(key), None)
                row[f"{map_name}.{key}"] = _flat(value)
        for clock in (clocks or {}).get(case.id, ()):
            sla_names.setdefault(clock.clock, None)
            row[f"sla.{clock.clock}.state"] = clock.state
            row[f"sla.{clock.clock}.due_at"] = parse_time(clock.due_at) if clock.due_at else None
        rows.append(row)
    columns = ["id", *STATE_COLUMNS]
    for map_name, keys in map_keys.items():
        columns += [f"{map_name}.{key}" for key in keys]
    for clock_name in sla_names:
        columns += [f"sla.{clock_name}.state", f"sla.{clock_name}.due_at"]
    times = {n for n in STATE_COLUMNS if FIELDS_BY_NAME[n].kind == "time"}
    times |= {f"sla.{c}.due_at" for c in sla_names}
    return ExportTable(tuple(columns), rows, frozenset(times))


def event_table(cases: Sequence[Case]) -> ExportTable:
    rows = []
    for case in cases:
        for event in case.events:
            changes = "\n".join(
                f"{name}: {_short(old)} -> {_short(new)}" for name, (old, new) in event.changes.items()
            )
            rows.append(
                {
                    "case_id": case.id,
                    "at": parse_time(event.at),
                    "actor": event.actor,
                    "action": event.action,
                    "changes": changes or None,
                    "note": event.note,
                    "rule": event.rule,
                }
            )
    return ExportTable(EVENT_COLUMNS, rows, frozenset({"at"}))


def _typed(name: str, value: Any) -> Any:
    if value is None:
        return None
    kind = FIELDS_BY_NAME[name].kind
    if kind == "time":
        return parse_time(value)
    if kind == "list":
        return ", ".join(str(v) for v in value) or None
    return value


def _flat(value: Any) -> Any:
    if isinstance(value, (Mapping, list, tuple)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def _short(value: Any) -> str:
    if value is None:
        return "-"
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, (Mapping, list)) else str(value)
    return text if len(text) <= 200 else text[:199] + "…"
