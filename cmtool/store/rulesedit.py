"""Changes cmtool itself makes to rules.yaml, as text edits that keep the person's
layout and comments: only the lines of the entries touched change.

``add_categories`` adds taxonomy entries for an import. ``without_people`` gives a
new team the bundled rules without the sample's people; ``add_people`` (``cmtool
init --person``, ``cmtool people add``) lists colleagues: it rewrites only the
``people:`` and ``teams:`` sections (one flow mapping per entry, the bundled
style); every other line of the file stays byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cmtool.errors import DataError, UsageError
from cmtool.store.yamlio import load
from cmtool.store.yamlstyle import flow, scalar

_TOP_KEY = re.compile(r"^[A-Za-z_][\w-]*\s*:")
_CATEGORIES = re.compile(r"^categories\s*:\s*(#.*)?$")
_EMPTY_CATEGORIES = re.compile(r"^categories\s*:\s*(\{\s*\}|null|~)\s*(#.*)?$")


def add_categories(text: str, entries: Mapping[str, str]) -> str:
    """``text`` with a ``categories:`` entry (key -> label, no keywords yet) for
    each of ``entries``, after the last category already there."""
    if not entries:
        return text
    block = []
    for key, label in entries.items():
        block += [f"  {scalar(key)}:", f"    label: {scalar(label)}", "    keywords: []"]
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if _EMPTY_CATEGORIES.match(line):
            lines[i] = "categories:"  # an empty flow mapping becomes the block the entries go in
    start = next((i for i, line in enumerate(lines) if _CATEGORIES.match(line)), None)
    if start is None:
        if any(line.startswith("categories") for line in lines):
            raise UsageError(
                "rules.yaml writes categories: on one line; the import cannot add the sheet's categories",
                hint="write categories: as a block (one key per line), or import with --no-rules",
            )
        tail = "" if not text or text.endswith("\n") else "\n"
        return text + tail + "\n".join(["categories:", *block]) + "\n"
    end = start + 1
    last_entry = start
    while end < len(lines) and not _TOP_KEY.match(lines[end]):
        if lines[end].startswith(" ") and lines[end].strip() and not lines[end].lstrip().startswith("#"):
            last_entry = end
        end += 1
    lines[last_entry + 1 : last_entry + 1] = block
    return "\n".join(lines) + "\n"


def category_key(label: str, taken: set[str]) -> str:
    """A stable taxonomy key for a sheet's word: lower case, words joined by ``_``."""
    key = "_".join(re.findall(r"\w+", label.lower())) or "category"
    key = key[:48].strip("_") or "category"
    unique, count = key, 1
    while unique in taken:
        count += 1
        unique = f"{key}_{count}"
    taken.add(unique)
    return unique


NAME_RE = re.compile(r"^[^\W_](?:[\w.@ -]{0,62}[\w.@-])?$")  # inner spaces: git names have them
NO_PEOPLE = "people: {}  # nobody yet, so roles are not checked: cmtool people add NAME[:ROLE[:TEAM]]"


@dataclass(frozen=True)
class PersonSpec:
    name: str
    role: str = "agent"
    team: str | None = None

    @classmethod
    def parse(cls, text: str) -> PersonSpec:
        """``NAME[:ROLE[:TEAM]]`` as typed on the command line."""
        parts = [part.strip() for part in text.split(":")]
        if len(parts) > 3 or not parts[0]:
            raise UsageError(f"{text!r}: expected NAME[:ROLE[:TEAM]], e.g. ana:agent:service")
        for part in parts:
            if part and not NAME_RE.match(part):
                raise UsageError(f"{text!r}: {part!r} is not a name (letters, digits, . _ @ -; at most 64)")
        role = parts[1] if len(parts) > 1 and parts[1] else "agent"
        team = parts[2] if len(parts) > 2 and parts[2] else None
        return cls(parts[0], role, team)


def without_people(text: str) -> str:
    """The rules for a new team: nobody under people:, and teams that name nobody yet."""
    data = _parse(text)
    teams = {
        name: {"members": [], **{k: v for k, v in spec.items() if k not in ("lead", "manager", "members")}}
        for name, spec in _mapping(data.get("teams")).items()
    }
    text = _replace_section(text, "people", lambda _old: [NO_PEOPLE])
    return _replace_section(text, "teams", lambda old: _section("teams", teams, old))


def add_people(text: str, people: Sequence[PersonSpec]) -> str:
    """rules.yaml with ``people`` listed and each added to their team's members (by
    default routing.default_team's; a manager joins no team unless named); a team
    named for the first time is created, and a lead or manager joining a team
    without one becomes it."""
    data = _parse(text)
    listed = dict(_mapping(data.get("people")))
    teams = {name: dict(_mapping(spec)) for name, spec in _mapping(data.get("teams")).items()}
    default_team = _mapping(data.get("routing")).get("default_team")
    roles = list(_mapping(data.get("roles"))) or ["agent", "lead", "manager"]
    for person in people:
        if person.name in listed:
            raise UsageError(f"{person.name!r} is already listed under people: in rules.yaml")
        if person.role not in roles:
            raise UsageError(f"{person.name}: unknown role {person.role!r} (roles: {', '.join(roles)})")
        # A manager oversees (escalations reach every manager); others are routed cases.
        team = person.team or (None if person.role == "manager" else default_team)
        listed[person.name] = {"role": person.role, **({"team": team} if team else {})}
        if team is None:
            continue
        spec = teams.setdefault(team, {"members": []})
        if person.role in ("lead", "manager") and not spec.get(person.role):
            spec[person.role] = person.name
        if person.role != "manager":
            members = list(spec.get("members") or [])
            spec["members"] = [*members, person.name] if person.name not in members else members
    text = _replace_section(text, "people", lambda old: _section("people", listed, old))
    return _replace_section(text, "teams", lambda old: _section("teams", teams, old))


def _parse(text: str) -> Mapping[str, Any]:
    data = load(text, "rules.yaml")
    if not isinstance(data, Mapping):
        raise DataError("rules.yaml: not a mapping of sections", hint="fix it, then run cmtool validate")
    return data


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _section(name: str, entries: Mapping[str, Any], old: list[str]) -> list[str]:
    """The section as ``name:`` and one flow line per entry; an entry whose value
    did not change keeps its old line (and its comment)."""
    if not entries:
        return [f"{name}: {{}}"]
    kept = _entry_lines(old)
    lines = [f"{name}:"]
    for key, value in entries.items():
        fresh = f"  {scalar(key)}: {flow(value)}"
        previous = kept.get(str(key))
        lines.append(previous if previous is not None and _same_entry(previous, value) else fresh)
    return lines


def _entry_lines(old: list[str]) -> dict[str, str]:
    found = {}
    for line in old[1:]:
        match = re.match(r"^  ([^\s#:][^:]*):\s", line)
        if match:
            found[match.group(1).strip().strip("'\"")] = line
    return found


def _same_entry(line: str, value: Any) -> bool:
    try:
        parsed = load(line.strip(), "rules.yaml")
    except DataError:
        return False
    return isinstance(parsed, Mapping) and list(parsed.values()) == [value]


def _replace_section(text: str, name: str, build: Callable[[list[str]], list[str]]) -> str:
    """Replace the top-level ``name:`` section (its key line and the indented or
    blank lines under it, trailing blanks excluded); appended when missing."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if re.match(rf"^{re.escape(name)}:(\s|$)", line)), None)
    if start is None:
        return text.rstrip("\n") + "\n\n" + "\n".join(build([])) + "\n"
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t"):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    new = build(lines[start:end])
    return "\n".join([*lines[:start], *new, *lines[end:]]) + "\n"
