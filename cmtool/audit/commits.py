"""Checks of one commit: its trailers against its diff, and each case file it changed.

The caller (``services.audit``) parses the blobs; this module only compares.
A case file may only ever grow: every event of the parent's version must still
be there, unchanged and in order, and the state must equal the replay of the
events. Events a commit appends are checked against the commit's date, the
registry of event kinds and the actor's role. A merge is judged by its parents:
it keeps every event of each, and adds nothing but the merge's own records.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from cmtool.audit.findings import Finding
from cmtool.audit.trailers import Trailers, parse_trailers, trailer_mismatches
from cmtool.model.events import Event
from cmtool.model.privacy import MIGRATE_ACTION, sealed_in_place
from cmtool.model.registry import EVENT_KINDS, MERGE_ACTOR, MERGE_EVENT_KINDS
from cmtool.model.schema import check_case_data
from cmtool.model.timefmt import parse_time
from cmtool.rules.access import AccessPolicy

CASE_PATH_RE = re.compile(r"^cases/(\d{4})/(\d{2})/(C-\d{6}-[0-9A-Z]{7})\.yaml$")
IGNORED_NAMES = (".gitkeep",)
GOOD_SIGNATURES = ("G", "U")  # git's %G?: good (U = good, key of unknown trust)


class CommitLike(Protocol):
    sha: str
    message: str
    author_name: str
    committer_date: str
    signature: str

    @property
    def is_merge(self) -> bool: ...


@dataclass
class FileVersion:
    """One blob of a case file, parsed by the caller."""

    data: Any  # parsed YAML, None when it did not parse
    error: str | None = None  # the YAML error, "path:line: message"
    lines: Callable[[], Mapping[str, int]] = lambda: {}  # key path -> line, computed on demand

    @property
    def events(self) -> list[Any]:
        events = self.data.get("events") if isinstance(self.data, Mapping) else None
        return events if isinstance(events, list) else []


@dataclass
class FileChange:
    path: str
    status: str  # A, M, D, T
    old: FileVersion | None  # the parent's version (None when added)
    new: FileVersion | None  # this commit's version (None when deleted)


def case_id_of(path: str) -> str | None:
    match = CASE_PATH_RE.match(path)
    return match.group(3) if match else None


def is_case_area(path: str) -> bool:
    return path.startswith("cases/") and path.rsplit("/", 1)[-1] not in IGNORED_NAMES


def check_commit_meta(
    commit: CommitLike, trailers: Trailers, case_paths: Sequence[str], policy: AccessPolicy
) -> list[Finding]:
    """Trailers and signature of one commit; ``case_paths`` are the cases/ files it changed."""
    found: list[Finding] = []
    sha = commit.sha
    if policy.require_signed and commit.signature not in GOOD_SIGNATURES:
        what = (
            "is not signed"
            if commit.signature in ("N", "")
            else (f"has a signature git does not accept (status {commit.signature})")
        )
        found.append(
            Finding(
                "UNSIGNED_COMMIT",
                f"{what}, but rules.yaml requires signed commits (audit.require_signed_commits)",
                sha,
            )
        )
    if commit.is_merge or not case_paths:
        return found
    if not trailers.present:
        for path in case_paths:
            found.append(
                Finding(
                    "HAND_EDIT",
                    "changed outside cmtool: the commit has no "
                    f"Cmtool-* trailers ({commit.message.splitlines()[0][:60]!r} "
                    f"by {commit.author_name})",
                    sha,
                    path,
                    None,
                    case_id_of(path),
                )
            )
        return found
    for problem in trailers.problems:
        found.append(Finding("TRAILER_MALFORMED", problem, sha))
    if trailers.actor and trailers.actor != commit.author_name:
        found.append(
            Finding(
                "TRAILER_ACTOR_MISMATCH",
                f"Cmtool-Actor is {trailers.actor!r} but the commit's author is {commit.author_name!r}",
                sha,
            )
        )
    touched = {case_id_of(p): p for p in case_paths if case_id_of(p)}
    unnamed, untouched = trailer_mismatches(trailers, touched)
    if trailers.action == MIGRATE_ACTION:
        untouched = []  # a history rewrite that sealed the past leaves nothing for it to change
    for case_id in unnamed:
        found.append(
            Finding(
                "TRAILER_UNNAMED_CASE",
                "the commit changes this case but its trailers do not name it",
                sha,
                touched[case_id],
                None,
                case_id,
            )
        )
    for case_id in untouched:
        found.append(
            Finding(
                "TRAILER_UNTOUCHED_CASE",
                "the trailers name this case but the commit does not change it",
                sha,
                "",
                None,
                case_id,
            )
        )
    return found


def check_file_change(
    commit: CommitLike,
    change: FileChange,
    policy: AccessPolicy,
    check_appended: bool = True,
) -> tuple[list[Finding], list[tuple[int, Event]]]:
    """Findings for one case file a (non-merge) commit changed, and the events it
    appended (index in the new file, event)."""
    found, new = _shape_findings(commit, change.path, change.new)
    if new is None:
        return found, []
    old_events = change.old.events if change.old is not None else []
    appended = _check_append_only(commit, change, old_events, new.events, found)
    if not check_appended:
        return found, []
    events = _check_appended(commit, change.path, new, appended, policy, found)
    return found, events


def check_merge_file(
    commit: CommitLike, path: str, parents: Sequence[FileVersion | None], new: FileVersion | None
) -> tuple[list[Finding], list[tuple[int, Event]]]:
    """A case file as a merge commit left it, judged by its parents.

    Every event of every parent must be there, unchanged and in the parent's
    order; an event in no parent may only be a record the merge itself writes
    (``registry.MERGE_EVENT_KINDS`` by ``registry.MERGE_ACTOR``); the state must
    be the replay of the events. Returns the findings and the merge's own events.
    """
    found, checked = _shape_findings(commit, path, new)
    if checked is None:
        return found, []
    new = checked
    case_id = case_id_of(path)
    new_events = new.events
    for number, parent in enumerate(parents, 1):
        missing = _first_not_kept(parent.events if parent is not None else [], new_events)
        if missing is not None:
            index, event = missing
            found.append(
                Finding(
                    "EVENT_REMOVED",
                    f"the merge lost or altered event {index + 1} of parent {number} ({_label(event)})",
                    commit.sha,
                    path,
                    None,
                    case_id,
                )
            )
    available: Counter[str] = Counter()
    for parent in parents:
        counts = Counter(_identity(item) for item in (parent.events if parent is not None else []))
        available |= counts  # the union keeps each event as often as the parent with most copies
    added: list[tuple[int, Event]] = []
    for index, item in enumerate(new_events):
        key = _identity(item)
        if available[key]:
            available[key] -= 1
            continue
        event = _event(item)
        if event is None:
            continue
        if event.actor != MERGE_ACTOR or event.action not in MERGE_EVENT_KINDS:
            found.append(
                Finding(
                    "MERGE_ADDED_EVENT",
                    f"event {index + 1} ({_label(item)}) is in neither parent: a merge may add "
                    f"only its own records ({', '.join(sorted(MERGE_EVENT_KINDS))} by {MERGE_ACTOR})",
                    commit.sha,
                    path,
                    new.lines().get(f"events[{index}]"),
                    case_id,
                )
            )
        added.append((index, event))
        _check_date(commit, path, new, index, event, found)
    return found, added


def _shape_findings(
    commit: CommitLike, path: str, new: FileVersion | None
) -> tuple[list[Finding], FileVersion | None]:
    """Findings about the new version alone, and that version (None when it is not
    a case file that can be checked further)."""
    sha = commit.sha
    case_id = case_id_of(path)
    if not case_id:
        stray = "a file under cases/ that is not a case file (cases/YYYY/MM/<ID>.yaml)"
        return [Finding("CASE_STRAY_FILE", stray, sha, path)], None
    if new is None:
        deleted = "case file deleted (or renamed): case files may never be removed"
        return [Finding("CASE_DELETED", deleted, sha, path, None, case_id)], None
    if new.error is not None:
        where, _, message = new.error.partition(": ")
        line = where.rsplit(":", 1)[-1]
        return [
            Finding("CASE_YAML", message, sha, path, int(line) if line.isdigit() else None, case_id)
        ], None
    found = [Finding(p.code, p.message, sha, path, p.line, case_id) for p in _schema_problems(new, path)]
    data_id = new.data.get("id") if isinstance(new.data, Mapping) else None
    if isinstance(data_id, str) and data_id != case_id:
        found.append(
            Finding(
                "CASE_WRONG_PATH", f"the file holds case {data_id}", sha, path, new.lines().get("id"), case_id
            )
        )
    return found, new


def _check_appended(
    commit: CommitLike,
    path: str,
    new: FileVersion,
    appended: list[int],
    policy: AccessPolicy,
    found: list[Finding],
) -> list[tuple[int, Event]]:
    """Date, kind and role of each event a commit appended."""
    case_id = case_id_of(path)
    new_events = new.events
    events: list[tuple[int, Event]] = []
    redress = _redress_by_index(new_events) if appended else []
    for index in appended:
        event = _event(new_events[index])
        if event is None:
            continue
        events.append((index, event))
        _check_date(commit, path, new, index, event, found)
        if event.action not in EVENT_KINDS:
            found.append(
                Finding(
                    "EVENT_UNKNOWN_ACTION",
                    f"event {index + 1}: {event.action!r} is not an action cmtool records",
                    commit.sha,
                    path,
                    new.lines().get(f"events[{index}]"),
                    case_id,
                )
            )
        amount, currency = redress[index]
        regimes = new.data.get("regimes") if isinstance(new.data, Mapping) else None
        denial = policy.denial(event, amount, policy.currency_of(currency, regimes))
        if denial:
            found.append(
                Finding(
                    "ROLE_DENIED",
                    f"event {index + 1}: {denial}",
                    commit.sha,
                    path,
                    new.lines().get(f"events[{index}]"),
                    case_id,
                )
            )
    return events


def _check_date(
    commit: CommitLike, path: str, new: FileVersion, index: int, event: Event, found: list[Finding]
) -> None:
    try:
        late = parse_time(event.at) > parse_time(commit.committer_date)
    except (TypeError, ValueError):
        late = False  # a bad time is a schema finding already
    if late:
        found.append(
            Finding(
                "EVENT_AFTER_COMMIT",
                f"event {index + 1} is dated {event.at}, after its commit ({commit.committer_date})",
                commit.sha,
                path,
                new.lines().get(f"events[{index}]"),
                case_id_of(path),
            )
        )


def _identity(item: Any) -> str:
    return json.dumps(item, sort_keys=True, ensure_ascii=False, default=str)


def _first_not_kept(old: list[Any], new: list[Any]) -> tuple[int, Any] | None:
    """The first event of ``old`` not found, in order, in ``new`` (None: all kept)."""
    position = 0
    for index, event in enumerate(old):
        while position < len(new) and new[position] != event:
            position += 1
        if position == len(new):
            return index, event
        position += 1
    return None


def _schema_problems(new: FileVersion, path: str) -> list:
    problems = check_case_data(new.data, path)
    if problems:  # rerun with line numbers only when there is something to point at
        problems = check_case_data(new.data, path, new.lines())
    return problems


def _check_append_only(
    commit: CommitLike, change: FileChange, old: list[Any], new: list[Any], found: list[Finding]
) -> list[int]:
    """Flag removed or rewritten events; returns indexes of the events this commit added."""
    sha, path, case_id = commit.sha, change.path, case_id_of(change.path)
    lines = change.new.lines if change.new is not None else (lambda: {})
    for index, event in enumerate(old):
        if index < len(new) and new[index] == event:
            continue
        if index < len(new) and sealed_in_place(event, new[index]) and _migrates(commit):
            continue  # `privacy migrate` sealed clear values in place; nothing else changed
        removed = index >= len(new) or (index + 1 < len(old) and new[index] == old[index + 1])
        if removed:
            message = f"event {index + 1} ({_label(event)}) was removed after it was committed"
        else:
            message = (
                f"event {index + 1} ({_label(event)}) was rewritten after it was committed"
                f"{_diff_hint(event, new[index])}"
            )
        line = lines().get(f"events[{min(index, len(new) - 1)}]") if new else None
        found.append(
            Finding("EVENT_REMOVED" if removed else "EVENT_REWRITTEN", message, sha, path, line, case_id)
        )
        return []
    return list(range(len(old), len(new)))


def _migrates(commit: CommitLike) -> bool:
    return parse_trailers(commit.message).action == MIGRATE_ACTION


def _label(event: Any) -> str:
    if not isinstance(event, Mapping):
        return repr(event)[:40]
    return f"{event.get('at')} {event.get('actor')} {event.get('action')}"


def _diff_hint(before: Any, after: Any) -> str:
    if not isinstance(before, Mapping) or not isinstance(after, Mapping):
        return ""
    keys = sorted(str(k) for k in set(before) | set(after) if before.get(k) != after.get(k))
    shown = [f"{k}: {before.get(k)!r} -> {after.get(k)!r}" for k in keys[:3]]
    return "; " + ", ".join(shown) if shown else ""


def _event(item: Any) -> Event | None:
    try:
        return Event.from_dict(item)
    except (KeyError, TypeError, AttributeError, IndexError):
        return None


def _redress_by_index(events: list[Any]) -> list[tuple[Any, Any]]:
    """The case's (redress, redress currency) once events[0..i] have happened, for
    every i: one pass, so a commit appending thousands of events is checked in linear time."""
    value = currency = None
    result = []
    for item in events:
        changes = item.get("changes") if isinstance(item, Mapping) else None
        changes = changes if isinstance(changes, Mapping) else {}
        pair = changes.get("redress")
        if isinstance(pair, list) and len(pair) == 2:
            value = pair[1]
        pair = changes.get("redress_currency")
        if isinstance(pair, list) and len(pair) == 2:
            currency = pair[1]
        result.append((value, currency))
    return result
