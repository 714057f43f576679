"""Who acts, when, and on which workspace: resolved once per command."""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cmtool.errors import UsageError
from cmtool.model.registry import COMMIT_TRAILERS, check_commit_action
from cmtool.model.text import control_error, escape_controls
from cmtool.model.timefmt import format_time, parse_time, too_far_ahead
from cmtool.services.guard import ActionGuard
from cmtool.store import git as gitops
from cmtool.store.transaction import Transaction, transaction
from cmtool.store.workspace import Workspace, find_workspace

NOW_ENV = "CMTOOL_NOW"
ACTOR_ENV = "CMTOOL_ACTOR"


class Clock:
    """When an action happens.

    A fixed time (``--now``, ``CMTOOL_NOW``) never moves: an action it would put
    before a case's last event is refused. The real time is read again once the
    workspace lock is held (``Context.transaction``): a writer that waited for the
    lock acts at the moment it got it, never "in the past", and never earlier than
    the last event of a case it changes (another machine's clock may run ahead).
    """

    def __init__(self, fixed: datetime | None = None) -> None:
        self.fixed = fixed
        self._read: datetime | None = None

    def now(self) -> datetime:
        if self.fixed is not None:
            return self.fixed
        if self._read is None:
            self._read = real_now()
        return self._read

    def read_under_lock(self) -> None:
        if self.fixed is None:
            self._read = real_now()

    def not_before(self, last_event: str | None, case_id: str) -> None:
        """Move the real time up to ``last_event``; refuse a fixed time before it, and
        a last event so far ahead that following it would date this action there."""
        if self.fixed is not None and last_event and parse_time(last_event) > self.fixed:
            raise UsageError(
                f"--now {format_time(self.fixed)} is before the last event of {case_id} ({last_event})",
                hint="give a later --now, or drop it to act at the current time",
            )
        if not self.catch_up(last_event):
            raise UsageError(
                f"the last event of {case_id} is dated {last_event}, more than a day ahead of "
                "this computer's clock: an action now cannot follow it",
                hint="check this computer's clock, and the case's history (cmtool history ID)",
            )

    def catch_up(self, last_event: str | None) -> bool:
        """Move the real time up to ``last_event`` (a fixed time stays as given).
        False, and no move, when ``last_event`` is more than a day ahead of the
        real clock: that is a wrong clock, not a colleague's skew."""
        if self.fixed is not None or not last_event:
            return True
        last, now = parse_time(last_event), self.now()
        if last <= now:
            return True
        if too_far_ahead(last, now):
            return False
        self._read = last.astimezone(now.tzinfo)
        return True


def real_now() -> datetime:
    return datetime.now().astimezone().replace(microsecond=0)


@dataclass(frozen=True)
class Context:
    ws: Workspace
    actor: str
    clock: Clock
    actor_email: str

    @property
    def now(self) -> datetime:
        return self.clock.now()

    @property
    def now_text(self) -> str:
        return format_time(self.now)

    @contextmanager
    def transaction(self, timeout: float | None = None) -> Iterator[Transaction]:
        """The workspace lock and a transaction; the action's time is read once held, and
        rules.yaml's people and roles are asked about each case before it is written."""
        with transaction(self.ws, timeout) as tx:
            self.clock.read_under_lock()
            tx.check = ActionGuard(self.ws)
            yield tx

    def not_before(self, last_event: str | None, case_id: str) -> None:
        self.clock.not_before(last_event, case_id)

    def catch_up(self, last_event: str | None) -> None:
        self.clock.catch_up(last_event)

    @property
    def identity(self) -> gitops.Identity:
        return gitops.Identity(self.actor, self.actor_email)


def resolve_now(text: str | None) -> datetime:
    """``--now``, else ``CMTOOL_NOW``, else the real time with the local offset."""
    return fixed_now(text) or real_now()


def fixed_now(text: str | None) -> datetime | None:
    """``--now``, else ``CMTOOL_NOW``; None when neither fixes the time."""
    value = text or os.environ.get(NOW_ENV)
    if not value:
        return None
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
    if not who or control_error(who):
        raise UsageError(f"--actor must be a non-empty single line ({control_error(who) or 'empty'})")
    if config and config.name == who:
        email = config.email
    else:
        email = f"{re.sub(r'[^A-Za-z0-9._-]+', '.', who).strip('.') or 'actor'}@cmtool.invalid"
    return Context(ws, who, Clock(fixed_now(now)), email)


def commit_message(
    summary: str, action: str, actor: str, case_ids: list[str], extra: Mapping[str, str] | None = None
) -> str:
    """A one-line summary and trailers (``git interpret-trailers`` reads them).

    ``action`` and the names in ``extra`` must be in ``cmtool.model.registry``,
    so that ``audit verify`` knows everything cmtool writes.
    """

    # Text from people and files (a title, a reason, an import file's name) never
    # makes a second line: no newline in it can forge a trailer.
    def line(text: str) -> str:
        return escape_controls(text, keep_lines=False)

    trailers = [f"Cmtool-Action: {check_commit_action(action)}", f"Cmtool-Actor: {line(actor)}"]
    trailers += [f"Cmtool-Case: {case_id}" for case_id in case_ids]
    for name, value in (extra or {}).items():
        if name not in COMMIT_TRAILERS:
            raise ValueError(f"trailer {name!r} is not in cmtool.model.registry.COMMIT_TRAILERS")
        trailers.append(f"{name}: {line(value)}")
    return f"{line(summary)}\n\n" + "\n".join(trailers) + "\n"


def file_summary(ws: Workspace, case_id: str, title: str | None) -> str:
    """The summary of a filing: the title only where rules.yaml declares titles
    free of personal data (``privacy.commit_titles``) and does not seal them;
    commit messages are never erased, so they never carry personal data."""
    from cmtool.store.personal import read_settings

    settings = read_settings(ws)
    if title and settings.commit_titles and "title" not in settings.personal:
        return f"file {case_id}: {title}"
    return f"file {case_id}"
