"""Reading rules.yaml: every problem at once, each with its line number.

``check_rules_file`` returns problems (for ``cmtool validate``); ``load_rules``
returns a frozen ``Rules`` or raises DataError listing every problem. Only this
module reads the file; the checks themselves live in ``rules.build``.

What does not change between commands is kept in the workspace's ``.git/cmtool``:
the parsed file (``store.rulescache``, by the text's hash) and the calendars'
public-holiday tables (``store.holidaycache``). The rules are still built and
checked from the data on every load, so the cache only saves the parsing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cmtool.calendar import PublicHolidays
from cmtool.errors import DataError
from cmtool.model.problems import Problem
from cmtool.rules.build import build_rules
from cmtool.rules.model import Rules
from cmtool.store.checkmarks import is_checked, mark_checked
from cmtool.store.holidaycache import HolidayCache
from cmtool.store.rulescache import parse_rules
from cmtool.store.safefile import read_text

RULES_MAX_BYTES = 1024 * 1024  # the bundled rules.yaml is about 20 KB
_CACHE: dict[tuple[str, int, int], Rules] = {}
_PUBLIC: dict[Path, PublicHolidays] = {}


def parse_with_lines(
    text: str, rel: str, root: Path | None = None
) -> tuple[Any, dict[str, int], list[Problem]]:
    """Parse YAML; map key paths (``sla.policies[1].resolution``) to 1-based lines.
    ``root``: the workspace whose cache may hold this text parsed."""
    try:
        data, lines = parse_rules(text, rel, root)
    except DataError as exc:
        where, _, message = str(exc).partition(": ")
        line = where.rsplit(":", 1)[-1]
        return None, {}, [Problem("RULES_YAML", message, rel, int(line) if line.isdigit() else None)]
    return data, lines, []


def public_holidays(root: Path) -> PublicHolidays:
    """The holiday tables of the workspace at ``root`` (its cache's, and those built
    since, which are added to it): one per workspace per process."""
    root = root.resolve()
    if root not in _PUBLIC:
        cache = HolidayCache(root)
        _PUBLIC[root] = PublicHolidays(cache.tables, cache.keep)
    return _PUBLIC[root]


def check_rules(
    text: str, rel: str = "rules.yaml", check_holidays: bool = True, root: Path | None = None
) -> tuple[Rules | None, Any, list[Problem]]:
    """(rules or None, the parsed data, every problem). ``root``: the workspace whose
    cache holds parsed texts and holiday tables."""
    data, lines, problems = parse_with_lines(text, rel, root)
    if problems:
        return None, None, problems
    if data is None or data == {}:
        # An empty file would silently mean "no SLA, no routing, no categories".
        message = "is empty: it needs at least the sections this workspace uses (see cmtool init)"
        return None, data, [Problem("RULES_EMPTY", message, rel, 1)]
    public = public_holidays(root) if root is not None else None
    rules, problems = build_rules(data, lines, rel, check_holidays, public)
    return rules, data, problems


def rules_from_text(text: str, rel: str = "rules.yaml", root: Path | None = None) -> Rules:
    """Rules from a rules.yaml text (the work tree's or a past commit's); DataError
    naming the first problems if it is broken. ``root``: the workspace whose cache
    may hold this text parsed, and which remembers the texts fully checked."""
    marks = None if root is None else root / "rules.yaml"
    checked = marks is not None and is_checked(marks, text)
    rules, _data, problems = check_rules(text, rel, check_holidays=not checked, root=root)
    if problems or rules is None:
        listed = "; ".join(str(p) for p in problems[:5])
        raise DataError(
            f"{rel} has {len(problems)} problem(s): {listed}",
            hint="fix them, then run: cmtool validate",
        )
    if marks is not None and not checked:
        mark_checked(marks, text)
    return rules


def check_rules_file(path: Path, rel: str = "rules.yaml") -> tuple[dict[str, Any] | None, list[Problem]]:
    """(parsed data, every problem): what ``cmtool validate`` reports."""
    try:
        text = read_text(path, path.parent, limit=RULES_MAX_BYTES)
    except DataError as exc:
        return None, [Problem("RULES_UNREADABLE", str(exc).partition(": ")[2], rel)]
    except OSError as exc:
        return None, [Problem("RULES_UNREADABLE", f"cannot read: {exc}", rel)]
    _rules, data, problems = check_rules(text, rel, root=path.parent)
    return (data if isinstance(data, dict) else None), problems


def load_rules(path: Path, rel: str = "rules.yaml") -> Rules:
    """The workspace's rules; DataError listing every problem if the file is broken.

    Cached per file version (path, mtime, size) so a long-running caller building
    calendars once keeps their holiday tables.
    """
    try:
        stat = path.stat()
        text = read_text(path, path.parent, limit=RULES_MAX_BYTES)
    except OSError as exc:
        raise DataError(f"{rel}: cannot read: {exc}") from None
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key in _CACHE:
        return _CACHE[key]
    # The holidays package is asked about countries once per version of the file
    # (0.5 s); every command then refuses what validate refuses.
    checked = is_checked(path, text)
    rules, _data, problems = check_rules(text, rel, check_holidays=not checked, root=path.parent)
    if problems or rules is None:
        listed = "\n  ".join(str(p) for p in problems)
        raise DataError(
            f"{rel} has {len(problems)} problem(s):\n  {listed}",
            hint="fix them, then run: cmtool validate",
        )
    if not checked:
        mark_checked(path, text)
    _CACHE[key] = rules
    return rules


def read_rules(path: Path) -> dict[str, Any]:
    """The raw sections (for modules that read a section this package does not model)."""
    return dict(load_rules(path).raw)
