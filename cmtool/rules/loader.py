"""Reading rules.yaml: every problem at once, with line numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cmtool.errors import DataError
from cmtool.model.problems import Problem
from cmtool.store.yamlio import load_with_lines

KNOWN_SECTIONS = {"version", "categories", "priority_rules", "teams", "routing", "people",
                  "calendars", "sla", "regimes", "escalation", "survey", "roles", "audit"}  # fmt: skip


def check_rules_file(path: Path, rel: str = "rules.yaml") -> tuple[dict[str, Any] | None, list[Problem]]:
    try:
        data, lines = load_with_lines(path.read_text(encoding="utf-8"), rel)
    except DataError as exc:
        where, _, message = str(exc).partition(": ")
        line = where.rsplit(":", 1)[-1]
        return None, [Problem("RULES_YAML", message, rel, int(line) if line.isdigit() else None)]
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return None, [Problem("RULES_NOT_MAPPING", "rules.yaml must be a mapping of sections", rel, 1)]
    problems = [
        Problem("RULES_UNKNOWN_SECTION", f"unknown section {key!r}", rel, lines.get(str(key)))
        for key in data
        if key not in KNOWN_SECTIONS
    ]
    return data, problems


def read_rules(path: Path) -> dict[str, Any]:
    data, problems = check_rules_file(path)
    if problems or data is None:
        raise DataError("; ".join(str(p) for p in problems), hint="see: cmtool validate")
    return data
