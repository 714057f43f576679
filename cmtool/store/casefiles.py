"""Case files: locate by ID or prefix, read and check, render."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from cmtool.errors import Ambiguous, DataError, NotFound, UsageError
from cmtool.model.case import Case
from cmtool.model.ids import ID_RE, is_valid_id, normalize_prefix
from cmtool.model.privacy import TOKEN_PREFIX
from cmtool.model.problems import Problem
from cmtool.model.schema import check_case_data
from cmtool.store import safefile
from cmtool.store.personal import sealer_for
from cmtool.store.workspace import Workspace
from cmtool.store.yamlio import load, load_with_lines

MAX_CANDIDATES = 10


def iter_case_paths(ws: Workspace, under: Path | None = None) -> Iterator[Path]:
    """Every case file, in ID order (folders are YYYY/MM, names are IDs).

    A year or month folder that is a symbolic link is not followed: it is
    yielded itself, so that reading it reports it.
    """
    base = under or ws.cases_dir
    if base.is_symlink():
        yield base
        return
    if not base.is_dir():
        return
    for year in _folders(base):
        if year.is_symlink():
            yield year
            continue
        for month in _folders(year):
            if month.is_symlink():
                yield month
            else:
                yield from sorted(month.glob("C-*.yaml"))


def _folders(base: Path) -> list[Path]:
    """Sub-folders, and links (to anything) that stand where a folder should."""
    with os.scandir(base) as entries:
        found = [Path(e.path) for e in entries if e.is_symlink() or e.is_dir(follow_symlinks=False)]
    return sorted(found)


def resolve_id(ws: Workspace, typed: str) -> str:
    """The one case ID that ``typed`` (a full ID or a unique prefix) names."""
    try:
        prefix = normalize_prefix(typed)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if is_valid_id(prefix):
        if os.path.lexists(ws.case_path(prefix)):  # a link is found, then refused when read
            return prefix
        raise NotFound(f"no case {prefix}", hint="list cases with: cmtool list")
    matches = [p.stem for p in _candidate_paths(ws, prefix) if p.stem.startswith(prefix)]
    if not matches:
        raise NotFound(f"no case ID starts with {prefix}", hint="list cases with: cmtool list")
    if len(matches) > 1:
        shown = ", ".join(matches[:MAX_CANDIDATES])
        more = f" and {len(matches) - MAX_CANDIDATES} more" if len(matches) > MAX_CANDIDATES else ""
        raise Ambiguous(
            f"{prefix} matches {len(matches)} cases: {shown}{more}", hint="type more characters of the ID"
        )
    return matches[0]


def _candidate_paths(ws: Workspace, prefix: str) -> Iterator[Path]:
    """Only the shard folders the prefix can point into (C-YYMM... names one month)."""
    digits = prefix[2:8] if prefix.startswith("C-") else ""
    if len(digits) >= 4 and digits[:4].isdigit():
        return iter(sorted((ws.cases_dir / f"20{digits[:2]}" / digits[2:4]).glob("C-*.yaml")))
    if len(digits) >= 2 and digits[:2].isdigit():
        return iter(sorted((ws.cases_dir / f"20{digits[:2]}").glob("*/C-*.yaml")))
    return iter_case_paths(ws)


def read_text(path: Path, root: Path | None = None) -> str:
    """A case file's exact text: a regular file (never through a link), within the size limit."""
    return safefile.read_text(path, root)


def check_file(ws: Workspace, path: Path) -> tuple[dict | None, list[Problem]]:
    """Parse and check one case file: (data, problems). Never raises for bad data."""
    rel = str(path.relative_to(ws.root))
    try:
        data, lines = load_with_lines(read_text(path, ws.root), rel)
    except FileNotFoundError:
        return None, [Problem("CASE_MISSING", "the file is gone", rel)]
    except safefile.NotRegularFile as exc:
        return None, [Problem("CASE_NOT_REGULAR_FILE", str(exc).partition(": ")[2], rel)]
    except safefile.TooLarge as exc:
        return None, [Problem("CASE_TOO_LARGE", str(exc).partition(": ")[2], rel)]
    except DataError as exc:
        where, _, message = str(exc).partition(": ")
        line = where.rsplit(":", 1)[-1]
        return None, [Problem("CASE_YAML", message, rel, int(line) if line.isdigit() else None)]
    problems = check_case_data(data, rel, lines)
    case_id = data.get("id") if isinstance(data, dict) else None
    if isinstance(case_id, str) and ID_RE.fullmatch(case_id) and ws.case_relpath(case_id) != rel:
        problems.append(
            Problem(
                "CASE_WRONG_PATH",
                f"a case with id {case_id} belongs at {ws.case_relpath(case_id)}",
                rel,
                lines.get("id"),
                case_id,
            )
        )
    if isinstance(case_id, str) and path.stem != case_id:
        problems.append(
            Problem(
                "CASE_WRONG_PATH", f"file name does not match id {case_id}", rel, lines.get("id"), case_id
            )
        )
    return (data if isinstance(data, dict) else None), problems


def load_case(ws: Workspace, case_id: str) -> tuple[Case, str]:
    """A case (sealed values opened, or ``[sealed]``) and its file text as stored;
    a broken file raises DataError naming file and line.

    The fast reader and a check without line numbers come first; only a file with
    problems is parsed again to say where they are.
    """
    path = ws.case_path(case_id)
    try:
        text = read_text(path, ws.root)
    except FileNotFoundError:
        raise NotFound(f"no case {case_id}") from None
    try:
        data = load(text, ws.case_relpath(case_id))
        clean = isinstance(data, dict) and not check_case_data(data) and data.get("id") == case_id
    except DataError:
        clean = False
    if not clean:
        data, problems = check_file(ws, path)
        if problems or data is None:
            first = problems[0] if problems else "not a case file"
            more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
            raise DataError(f"{first}{more}", hint="see all with: cmtool validate")
    if TOKEN_PREFIX in text:
        data = sealer_for(ws).open_case(data)
    return Case.from_dict(data), text
