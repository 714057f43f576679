"""The demo's history: the bundled sample replayed as the commits a team made.

Every action in the sample's timelines becomes the commit cmtool would have made
for it, dated when it happened, with its trailers and the acting person as
author. Two offices work offline: the Shanghai/Beijing office (cases in +08:00)
on the main line, the London/New York office (the other cases) on its own
clone; each week ends with a ``cmtool sync`` merge by ``sync-bot``. The end of
September is sealed (``cmtool-seal-1``). The last commit's case files are the
bundled sample byte for byte, so `history`, `--as-of` and `audit verify` all
have something true to read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType

from cmtool.audit.seals import seal_message
from cmtool.model.case import Case
from cmtool.model.merge import merge_case_data
from cmtool.model.replay import replay
from cmtool.model.timefmt import format_time, parse_time, to_utc
from cmtool.services.context import commit_message, file_summary
from cmtool.store import gitread, sealtags
from cmtool.store.fastimport import PlannedCommit, write_commits
from cmtool.store.workspace import BUNDLED, Workspace
from cmtool.store.yamlio import load
from cmtool.store.yamlstyle import dump

HOME_OFFSET = timedelta(hours=8)  # the main line's office
SYNC_ACTOR = "sync-bot"
SEAL_ACTOR = "omar"
SEALED_UNTIL = datetime.fromisoformat("2025-10-01T00:00:00+08:00")


@dataclass(frozen=True)
class Action:
    """Consecutive events of one case by one actor at one time: one commit."""

    at: datetime
    case_id: str
    start: int
    end: int  # events[start:end]


def build_history(ws: Workspace, emails: Mapping[str, str]) -> int:
    """Write the history into ``ws`` (a fresh workspace without commits) and check
    it out; returns the number of commits."""
    cases, texts = _sample()
    base = {
        str(path.relative_to(ws.root)): path.read_text(encoding="utf-8")
        for path in sorted(ws.root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(ws.root).parts
    }
    planned = _plan(ws, cases, texts, base, emails)
    marks = write_commits(ws.root, "main", planned)
    gitread.run_git(ws.root, "reset", "-q", "--hard", "main")
    _seal(ws, planned, marks, emails)
    return len(planned)


def _sample() -> tuple[dict[str, Case], dict[str, str]]:
    cases, texts = {}, {}
    for path in sorted((BUNDLED / "cases").rglob("C-*.yaml")):
        text = path.read_text(encoding="utf-8")
        case = Case.from_dict(load(text, str(path)))
        cases[case.id], texts[case.id] = case, text
    return cases, texts


def _actions(cases: Mapping[str, Case]) -> list[Action]:
    actions = []
    for case_id, case in cases.items():
        start = 0
        for index in range(1, len(case.events) + 1):
            here = case.events[start]
            if index == len(case.events) or (case.events[index].at, case.events[index].actor) != (
                here.at,
                here.actor,
            ):
                actions.append(Action(parse_time(here.at), case_id, start, index))
                start = index
    return sorted(actions, key=lambda a: (to_utc(a.at.isoformat()), a.case_id, a.start))


def _plan(
    ws: Workspace,
    cases: Mapping[str, Case],
    texts: Mapping[str, str],
    base: Mapping[str, str],
    emails: Mapping[str, str],
) -> list[PlannedCommit]:
    actions = _actions(cases)
    init = commit_message("init workspace", "init", "cmtool", [])
    planned = [
        PlannedCommit(
            1, (), "cmtool", _email("cmtool", emails), actions[0].at - timedelta(days=1), init, base
        )
    ]
    tips = {"home": 1, "away": 1}
    changed: dict[str, dict[str, str]] = {"home": {}, "away": {}}  # since the last sync
    week = _week(actions[0].at)
    for action in [*actions, None]:
        if action is None or _week(action.at) != week:
            if changed["away"]:  # the week ends: the home office's cron job syncs
                planned.append(_sync(planned, tips, changed, emails))
                tips = {"home": len(planned), "away": len(planned)}
                changed = {"home": {}, "away": {}}
            if action is None:
                break
            week = _week(action.at)
        case = cases[action.case_id]
        event = case.events[action.start]
        lane = "home" if event.at.endswith("+08:00") else "away"
        done = case.events[: action.end]
        if action.end == len(case.events):
            text = texts[action.case_id]  # the bundled file itself
        else:
            text = dump(Case(case.id, MappingProxyType(replay(done)), done).to_dict())
        path = _path(case.id)
        changed[lane][path] = text
        # Notes may name people: commit messages (never erased) carry no free text.
        summary = (
            file_summary(ws, case.id, case.get("title"))
            if event.action == "file"
            else f"{event.action} {case.id}"
        )
        planned.append(
            PlannedCommit(
                len(planned) + 1,
                (tips[lane],),
                event.actor,
                _email(event.actor, emails),
                action.at,
                commit_message(summary, event.action, event.actor, [case.id]),
                {path: text},
            )
        )
        tips[lane] = len(planned)
    return planned


def _sync(
    planned: list[PlannedCommit], tips: Mapping[str, int], changed: Mapping[str, Mapping[str, str]], emails
) -> PlannedCommit:
    """The merge `cmtool sync` makes: the other office's files, and any case both
    offices changed merged as the case-file driver merges it."""
    files = dict(changed["away"])
    both = sorted(set(changed["home"]) & set(files))
    for path in both:
        merged = merge_case_data(load(changed["home"][path], path), load(files[path], path))
        files[path] = dump(merged.case.to_dict())
    ids = [path.rsplit("/", 1)[-1].removesuffix(".yaml") for path in both]
    when = max(planned[tips["home"] - 1].when, planned[tips["away"] - 1].when) + timedelta(minutes=1)
    message = commit_message("sync: merge origin/main", "sync", SYNC_ACTOR, ids)
    return PlannedCommit(
        len(planned) + 1,
        (tips["home"], tips["away"]),
        SYNC_ACTOR,
        _email(SYNC_ACTOR, emails),
        when,
        message,
        files,
    )


def _seal(ws: Workspace, planned: Sequence[PlannedCommit], marks: Mapping[int, str], emails) -> None:
    """cmtool-seal-1 on the last commit of the main line before ``SEALED_UNTIL``."""
    sealed = planned[-1]
    while sealed.when >= SEALED_UNTIL and sealed.parents:
        sealed = planned[sealed.parents[0] - 1]
    commit = marks[sealed.mark]
    tree = gitread.run_git(ws.root, "rev-parse", f"{commit}^{{tree}}").strip()
    message = seal_message("Q3 2025 closed", 1, commit, tree, None, SEAL_ACTOR)
    env = {
        "GIT_COMMITTER_NAME": SEAL_ACTOR,
        "GIT_COMMITTER_EMAIL": _email(SEAL_ACTOR, emails),
        "GIT_COMMITTER_DATE": format_time(SEALED_UNTIL + timedelta(hours=9)),
    }
    sealtags.create_seal_tag(ws.root, f"{sealtags.SEAL_PREFIX}1", commit, message, False, env)


def _week(moment: datetime) -> tuple[int, int]:
    year, week, _day = to_utc(moment.isoformat()).isocalendar()
    return year, week


def _email(actor: str, emails: Mapping[str, str]) -> str:
    return emails.get(actor) or f"{actor}@cmtool.invalid"


def _path(case_id: str) -> str:
    return f"cases/20{case_id[2:4]}/{case_id[4:6]}/{case_id}.yaml"


def people_emails(rules_path: Path) -> dict[str, str]:
    data = load(rules_path.read_text(encoding="utf-8"), "rules.yaml")
    people = data.get("people") if isinstance(data, dict) else None
    return {
        str(name): str(spec["email"])
        for name, spec in (people or {}).items()
        if isinstance(spec, dict) and spec.get("email")
    }
