"""Who acts, when, and on which workspace: resolved once per command."""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cmtool.errors import UsageError
from cmtool.model.registry import COMMIT_TRAILERS, check_commit_action
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


def commit_message(
    summary: str, action: str, actor: str, case_ids: list[str], extra: Mapping[str, str] | None = None
) -> str:
    """A one-line summary and trailers (``git interpret-trailers`` reads them).

    ``action`` and the names in ``extra`` must be in ``cmtool.model.registry``,
    so that ``audit verify`` knows everything cmtool writes.
    """
    trailers = [f"Cmtool-Action: {check_commit_action(action)}", f"Cmtool-Actor: {actor}"]
    trailers += [f"Cmtool-Case: {case_id}" for case_id in case_ids]
    for name, value in (extra or {}).items():
        if name not in COMMIT_TRAILERS:
            raise ValueError(f"trailer {name!r} is not in cmtool.model.registry.COMMIT_TRAILERS")
        trailers.append(f"{name}: {value}")
    return f"{summary}\n\n" + "\n".join(trailers) + "\n"
