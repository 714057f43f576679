"""Who acts, when, and on which workspace: resolved once per command."""

from __future__ import annotations

import getpass
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cmtool.errors import UsageError
from cmtool.model.timefmt import format_time, parse_time
from cmtool.store import git as gitops
from cmtool.store.workspace import Workspace, find_workspace

NOW_ENV = "CMTOOL_NOW"
ACTOR_ENV = "CMTOOL_ACTOR"


@dataclass(frozen=True)
class Context:
    ws: Workspace
    actor: str
    now: datetime
    actor_email: str

    @property
    def now_text(self) -> str:
        return format_time(self.now)

    @property
    def identity(self) -> gitops.Identity:
        return gitops.Identity(self.actor, self.actor_email)


def resolve_now(text: str | None) -> datetime:
    """``--now``, else ``CMTOOL_NOW``, else the real time with the local offset."""
    value = text or os.environ.get(NOW_ENV)
    if not value:
        return datetime.now().astimezone().replace(microsecond=0)
    try:
        return parse_time(value)
    except ValueError as exc:
        raise UsageError(f"--now {value!r}: {exc}") from None


def make_context(workspace: Path | None = None, actor: str | None = None, now: str | None = None) -> Context:
    ws = find_workspace(workspace)
    who = actor or os.environ.get(ACTOR_ENV)
    config = gitops.config_identity(ws.root)
    if not who:
        who = config.name if config else getpass.getuser()
    who = who.strip()
    if not who or "\n" in who:
        raise UsageError("--actor must be a non-empty single line")
    if config and config.name == who:
        email = config.email
    else:
        email = f"{re.sub(r'[^A-Za-z0-9._-]+', '.', who).strip('.') or 'actor'}@cmtool.invalid"
    return Context(ws, who, resolve_now(now), email)


def commit_message(summary: str, action: str, actor: str, case_ids: list[str]) -> str:
    """A one-line summary and trailers (``git interpret-trailers`` reads them)."""
    trailers = [f"Cmtool-Action: {action}", f"Cmtool-Actor: {actor}"]
    trailers += [f"Cmtool-Case: {case_id}" for case_id in case_ids]
    return f"{summary}\n\n" + "\n".join(trailers) + "\n"


def file_summary(ws: Workspace, case_id: str, title: str | None) -> str:
    """The summary of a filing: the title only where rules.yaml declares titles
    free of personal data (``privacy.commit_titles``) and does not seal them;
    commit messages are never erased, so they never carry personal data."""
    from cmtool.store.personal import read_settings

    settings = read_settings(ws)
    if title and settings.commit_titles and "title" not in settings.personal:
        return f"file {case_id}: {title}"
    return f"file {case_id}"
