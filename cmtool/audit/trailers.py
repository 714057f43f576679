"""Commit trailers written by cmtool, and whether a commit's diff matches them.

Every cmtool commit ends with ``Cmtool-Action``, ``Cmtool-Actor`` and one
``Cmtool-Case`` line per case it touched (see ``services.context.commit_message``);
the names and actions allowed are those of ``cmtool.model.registry``.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field

from cmtool.model.ids import is_valid_id
from cmtool.model.registry import COMMIT_ACTIONS, COMMIT_TRAILERS

TRAILER_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9-]*):\s?(.*)$")
ACTION_RE = re.compile(r"^[a-z][a-z0-9_]*$")
SINGLE = ("Cmtool-Action", "Cmtool-Actor", "Cmtool-Source")  # at most once per commit


@dataclass(frozen=True)
class Trailers:
    action: str | None = None
    actor: str | None = None
    cases: tuple[str, ...] = ()
    problems: tuple[str, ...] = field(default=())  # why they are malformed
    present: bool = False  # any Cmtool-* trailer at all

    def to_dict(self) -> dict[str, object]:
        return {"action": self.action, "actor": self.actor, "cases": list(self.cases)}


def parse_trailers(message: str) -> Trailers:
    """The Cmtool-* trailers of a commit message (its last paragraph)."""
    paragraphs = [p for p in message.strip().split("\n\n") if p.strip()]
    if len(paragraphs) < 2:
        return Trailers()
    values: dict[str, list[str]] = {}
    problems: list[str] = []
    for line in paragraphs[-1].splitlines():
        match = TRAILER_RE.match(line.strip())
        if not match:
            continue
        key, value = match.group(1), match.group(2).strip()
        if key.lower().startswith("cmtool-"):
            if key not in COMMIT_TRAILERS:
                problems.append(f"unknown trailer {key!r}")
                continue
            values.setdefault(key, []).append(value)
    if not values and not problems:
        return Trailers()
    for key in ("Cmtool-Action", "Cmtool-Actor"):
        found = values.get(key, [])
        if not found or not found[0]:
            problems.append(f"{key} is missing")
    for key in SINGLE:
        if len(values.get(key, [])) > 1:
            problems.append(f"{key} appears {len(values[key])} times")
    action = (values.get("Cmtool-Action") or [None])[0]
    if action and not ACTION_RE.match(action):
        problems.append(f"Cmtool-Action {action!r} is not an action name")
    elif action and action not in COMMIT_ACTIONS:
        problems.append(f"Cmtool-Action {action!r} is not an action cmtool writes")
    cases = tuple(values.get("Cmtool-Case", []))
    for case_id in cases:
        if not is_valid_id(case_id):
            problems.append(f"Cmtool-Case {case_id!r} is not a case ID")
    if len(set(cases)) != len(cases):
        problems.append("a Cmtool-Case is named twice")
    actor = (values.get("Cmtool-Actor") or [None])[0]
    return Trailers(action, actor or None, cases, tuple(problems), True)


def trailer_mismatches(trailers: Trailers, touched: Collection[str]) -> tuple[list[str], list[str]]:
    """(cases touched but not named, cases named but not touched), each sorted."""
    named = set(trailers.cases)
    return sorted(set(touched) - named), sorted(named - set(touched))
