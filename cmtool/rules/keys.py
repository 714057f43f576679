"""Which keys each mapping of rules.yaml may hold: a misspelt key is an error.

A typo must not change behaviour silently: ``wen:`` in an SLA policy would make
it apply to every case, ``timezon:`` would put a calendar in UTC. Every mapping
below is checked against its keys, with the line of the stray key and the
nearest known key as a hint.

To add a section (or a key), add it here: a pattern names mappings in the file
(``*`` = any name the user chooses, ``[]`` = every item of a list), and its keys
are the only ones allowed there. A few sections check their own keys where
they are read (``SELF_CHECKED``); every section in ``build.KNOWN_SECTIONS`` must
be in one of the two (a test holds that).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

from cmtool.rules.checker import Checker

SECTION_KEYS: dict[str, frozenset[str]] = {
    "categories.*": frozenset({"label", "team", "keywords"}),
    "priority_rules[]": frozenset({"name", "when", "set", "at_least", "raise"}),
    "teams.*": frozenset({"members", "lead", "assign", "manager"}),
    "routing": frozenset({"strategy", "default_team", "assign_on_file"}),
    "people.*": frozenset({"email", "role", "team"}),
    "calendars.*": frozenset(
        {"timezone", "hours", "holidays", "makeup_hours", "extra_holidays", "extra_workdays"}
    ),
    "calendars.*.holidays": frozenset({"country", "subdiv"}),
    "sla": frozenset({"calendar", "pause_while_waiting", "policies"}),
    "sla.policies[]": frozenset(
        {
            "name",
            "when",
            "calendar",
            "first_response",
            "resolution",
            "pause_while_waiting",
            "count_from",
            "ends_at",
        }
    ),
    "regimes.*": frozenset({"preset", "calendar", "apply_when", "currency"}),
    "escalation[]": frozenset({"step", "at", "after", "notify", "level"}),
    "survey": frozenset({"delay_hours", "max_age_days", "cooldown_days", "template"}),
}
# Sections whose reader checks its keys itself (roles, audit: ``access``; reporting,
# attachments, privacy: their builders;
# notifications: ``build_notify``; intake: ``build_intake``; views: ``views``), and scalars.
SELF_CHECKED = frozenset(
    {"version", "roles", "audit", "notifications", "intake", "views", "reporting", "attachments", "privacy"}
)


def check_keys(c: Checker, data: Mapping[str, Any]) -> None:
    """Report every key not allowed where it stands (code RULES_UNKNOWN_KEY)."""
    for pattern, allowed in SECTION_KEYS.items():
        for path, table in _mappings(data, pattern):
            for key in table:
                if key not in allowed:
                    c.bad(f"{path}.{key}", _unknown(str(key), allowed), "RULES_UNKNOWN_KEY")


def _unknown(key: str, allowed: frozenset[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key {key!r}: {hint}(known here: {', '.join(sorted(allowed))})"


def _mappings(data: Any, pattern: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(path as the line table writes it, mapping) for each mapping ``pattern`` names."""
    found: list[tuple[str, Any]] = [("", data)]
    for step in _steps(pattern):
        following: list[tuple[str, Any]] = []
        for path, value in found:
            if step == "[]":
                if isinstance(value, list):
                    following += [(f"{path}[{index}]", item) for index, item in enumerate(value)]
            elif isinstance(value, Mapping):
                names = list(value) if step == "*" else [step] if step in value else []
                following += [(f"{path}.{name}" if path else str(name), value[name]) for name in names]
        found = following
    for path, value in found:
        if isinstance(value, Mapping):
            yield path, value


def _steps(pattern: str) -> list[str]:
    steps = []
    for part in pattern.split("."):
        name = part.removesuffix("[]")
        steps.append(name)
        if part.endswith("[]"):
            steps.append("[]")
    return steps
