"""The workspace as it stood at a past moment or commit, rebuilt from git.

``--as-of`` on show, list, stats and sla check. A date or time resolves to
the last commit at or before it on HEAD's first-parent line (the history the
team actually saw, not a side branch merged later); anything else is taken as
a commit-ish (id, tag such as ``cmtool-seal-3``, branch). Every case file of
that commit's tree is read through one ``git cat-file --batch`` process.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, time

from cmtool.errors import DataError, NotFound, UsageError
from cmtool.model.case import Case
from cmtool.model.ids import is_valid_id, normalize_prefix
from cmtool.model.privacy import TOKEN_PREFIX
from cmtool.model.timefmt import format_time, parse_time
from cmtool.rules.loader import rules_from_text
from cmtool.rules.model import Rules
from cmtool.services.context import resolve_now
from cmtool.store import gitread
from cmtool.store.personal import sealer_for
from cmtool.store.sealing import Sealer
from cmtool.store.workspace import Workspace
from cmtool.store.yamlio import load

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ].*)?$")


def resolve_as_of(ws: Workspace, when: str) -> str:
    """The commit ``when`` (a date, a time or a commit-ish) stands for."""
    text = when.strip()
    if DATE_RE.match(text):
        moment = _moment(text)
        commit = gitread.commit_at_or_before(ws.root, format_time(moment))
        if commit is None:
            raise NotFound(
                f"--as-of {when}: no commit at or before {format_time(moment)}",
                hint="the history starts later; pick a later date",
            )
        return commit
    commit = gitread.rev_parse(ws.root, text) if text and not text.startswith("-") else None
    if commit is None:
        raise UsageError(
            f"--as-of {when!r} is neither a date (2025-11-18, "
            "2025-11-18T17:00+08:00) nor a commit, tag or branch"
        )
    return commit


@dataclass(frozen=True)
class PastView:
    """Where ``--as-of`` looks: the commit, the moment it stands for, and the
    rules.yaml of that commit (a past view is judged by the rules of its day)."""

    commit: str
    commit_date: str  # the commit's committer date, ISO 8601
    moment: datetime  # the time asked for (a date: its end), or the commit's date
    rules: Rules
    rules_text: str


def past_view(ws: Workspace, when: str) -> PastView:
    """The commit, moment and rules ``when`` (a date, a time or a commit-ish) stands for.

    A bare date means the end of that day, or now if that day is not over yet
    (but never before the commit it shows); a time is taken as given; a commit
    stands for its own date.
    """
    commit = resolve_as_of(ws, when)
    date = commit_date(ws, commit)
    text = when.strip()
    if not DATE_RE.match(text):
        moment = parse_time(date)
    elif len(text) == 10:
        moment = max(min(_moment(text), resolve_now(None)), parse_time(date))
    else:
        moment = _moment(text)
    rules, rules_text = rules_as_of(ws, commit)
    return PastView(commit, date, moment, rules, rules_text)


def commit_date(ws: Workspace, commit: str) -> str:
    return gitread.run_git(ws.root, "show", "-s", "--format=%cI", commit).strip()


def rules_as_of(ws: Workspace, commit: str) -> tuple[Rules, str]:
    """The rules of ``commit`` (no rules.yaml there: the empty rules) and their text."""
    with gitread.BlobReader(ws.root) as reader:
        raw = reader.read(f"{commit}:rules.yaml")
    text = raw.decode("utf-8", "replace") if raw is not None else ""
    return rules_from_text(text, f"rules.yaml (at {commit[:12]})", ws.root), text


def _moment(text: str) -> datetime:
    """A date means the end of that day; times without an offset take the offset of
    "now" (``--now``/``CMTOOL_NOW``, else the local one)."""
    zone = resolve_now(None).tzinfo
    try:
        if len(text) == 10:
            return datetime.combine(datetime.fromisoformat(text).date(), time(23, 59, 59), zone)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise UsageError(f"--as-of {text!r}: {exc}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def cases_as_of(ws: Workspace, when: str, statuses: Collection[str] | None = None) -> list[Case]:
    """Every case (or those in ``statuses``) as it stood at ``when``, in ID order."""
    commit = resolve_as_of(ws, when)
    entries = [
        (path, sha) for path, sha in gitread.tree_blobs(ws.root, commit, "cases/") if path.endswith(".yaml")
    ]
    cases = []
    sealer = sealer_for(ws)
    blobs = gitread.read_blobs(ws.root, [sha for _path, sha in entries])
    for (path, _sha), raw in zip(entries, blobs, strict=True):
        case = _case(raw, path, commit, sealer)
        if statuses is None or case.state.get("status") in statuses:
            cases.append(case)
    return cases


def case_as_of(ws: Workspace, ref: str, when: str) -> Case:
    """One case (ID or unambiguous prefix) as it stood at ``when``."""
    commit = resolve_as_of(ws, when)
    try:
        prefix = normalize_prefix(ref)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    names = [
        path
        for path, _sha in gitread.tree_blobs(ws.root, commit, "cases/")
        if path.rsplit("/", 1)[-1].startswith(prefix)
    ]
    if not names:
        raise NotFound(
            f"no case {prefix}{'' if is_valid_id(prefix) else '...'} as of {when} (commit {commit[:12]})"
        )
    if len(names) > 1:
        from cmtool.errors import Ambiguous

        raise Ambiguous(
            f"{prefix} matched {len(names)} cases as of {when}", hint="type more characters of the ID"
        )
    with gitread.BlobReader(ws.root) as reader:
        return _case(reader.read(f"{commit}:{names[0]}"), names[0], commit, sealer_for(ws))


def _case(raw: bytes | None, path: str, commit: str, sealer: Sealer) -> Case:
    where = f"{path} at {commit[:12]}"
    if raw is None:
        raise DataError(f"{where}: blob missing from the repository")
    text = raw.decode("utf-8", "replace")
    data = load(text, where)
    try:
        return Case.from_dict(sealer.open_case(data) if TOKEN_PREFIX in text else data)
    except (KeyError, TypeError, AttributeError) as exc:
        raise DataError(f"{where}: not a valid case file ({exc})") from None
