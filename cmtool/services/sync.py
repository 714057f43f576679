"""`cmtool sync`: fetch from the shared remote, merge, push; retry if it moved.

The whole sync runs under the workspace lock, so no action of this machine
interleaves with it. Case files changed on both sides are merged by the
case-file driver (see ``cmtool.model.merge``); any other conflict stops the
sync with the merge undone and the workspace as it was. Never force-pushes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from cmtool.errors import DirtyWorkspace, GitError
from cmtool.model.events import Event
from cmtool.model.merge import CONTEST_ACTION, event_key
from cmtool.services.context import Context, commit_message
from cmtool.store import git as gitops
from cmtool.store import remote as remote_git
from cmtool.store.remote import Commit
from cmtool.store.yamlio import load

MAX_ATTEMPTS = 5


@dataclass
class SyncReport:
    remote: str
    branch: str
    incoming: list[Commit] = field(default_factory=list)
    outgoing: list[Commit] = field(default_factory=list)
    merged_cases: list[str] = field(default_factory=list)  # changed on both sides
    contests: list[str] = field(default_factory=list)
    attempts: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "remote": self.remote,
            "branch": self.branch,
            "attempts": self.attempts,
            "incoming": [c.to_dict() for c in self.incoming],
            "outgoing": [c.to_dict() for c in self.outgoing],
            "merged_cases": self.merged_cases,
            "contests": self.contests,
        }


def sync(ctx: Context, remote: str | None = None) -> SyncReport:
    root = ctx.ws.root
    with ctx.transaction():  # the lock; also rolls back an interrupted action
        if remote_git.interrupted_sync(root):
            remote_git.clear_interrupted_sync(root)
        if remote_git.merge_in_progress(root):
            raise DirtyWorkspace(
                "a git merge is in progress in this workspace",
                hint="finish it (git commit) or undo it (git merge --abort), then sync again",
            )
        dirty = remote_git.uncommitted(root)
        if dirty:
            shown = ", ".join(dirty[:5]) + (f" and {len(dirty) - 5} more" if len(dirty) > 5 else "")
            raise DirtyWorkspace(
                f"uncommitted changes: {shown}", hint="commit or discard them, or see: cmtool doctor"
            )
        branch = remote_git.current_branch(root)
        name = remote or remote_git.default_remote(root, branch)
        remote_git.check_remote(root, name)
        report = SyncReport(name, branch)
        failed: tuple[str | None, str] | None = None  # (remote head, why) of a failed push
        for attempt in range(1, MAX_ATTEMPTS + 1):
            report.attempts = attempt
            remote_git.fetch(root, name)
            theirs = remote_git.tracking_ref(root, name, branch)
            if failed and failed[0] == theirs:  # the remote did not move: a real failure
                raise GitError(
                    failed[1], hint="your commits are safe here; fix the cause and run cmtool sync again"
                )
            if theirs:
                incoming = remote_git.commits(root, "HEAD", theirs)
                if incoming:
                    _merge(ctx, report, theirs)
                    known = {c.sha for c in report.incoming}
                    report.incoming += [c for c in incoming if c.sha not in known]
            outgoing = remote_git.commits(root, theirs, "HEAD")
            why = remote_git.push(root, name, branch) if outgoing else None
            if why is None:
                report.outgoing = outgoing
                remote_git.point_bare_head(root, name, branch)
                return report
            failed = (theirs, why)
            time.sleep(0.2 * attempt)  # someone pushed meanwhile? fetch and merge again
        raise GitError(
            f"{name} kept moving while syncing; gave up after {MAX_ATTEMPTS} attempts",
            hint="your commits are safe here; run cmtool sync again",
        )


def _merge(ctx: Context, report: SyncReport, theirs: str) -> None:
    root = ctx.ws.root
    ours = gitops.head(root) or "HEAD"
    base = remote_git.merge_base(root, ours, theirs)
    if base is None:
        raise GitError(
            f"{report.remote}/{report.branch} shares no history with this workspace",
            hint="clone the shared remote (git clone URL) instead of a separate "
            "cmtool init; then cmtool install",
        )
    deleted = remote_git.deleted_cases(root, base, theirs)
    if deleted:
        shown = ", ".join(deleted[:5]) + (f" and {len(deleted) - 5} more" if len(deleted) > 5 else "")
        raise GitError(
            f"sync refused: {report.remote}/{report.branch} deletes case files ({shown}); "
            "a case file is never deleted, so nothing was merged or pushed",
            hint="find who deleted them (git log --diff-filter=D --stat "
            f"{report.remote}/{report.branch} -- cases/) and restore them there",
        )
    both = sorted(
        path
        for path in remote_git.changed_paths(root, base, ours) & remote_git.changed_paths(root, base, theirs)
        if path.startswith("cases/") and path.endswith(".yaml")
    )
    case_ids = [path.rsplit("/", 1)[-1][: -len(".yaml")] for path in both]
    summary = f"sync: merge {report.remote}/{report.branch}"
    if case_ids:
        plural = "s" if len(case_ids) > 1 else ""
        summary += f" ({len(case_ids)} case{plural} changed on both sides)"
    message = commit_message(summary, "sync", ctx.actor, case_ids)
    env = {
        "GIT_AUTHOR_NAME": ctx.actor,
        "GIT_AUTHOR_EMAIL": ctx.actor_email,
        "GIT_AUTHOR_DATE": ctx.now_text,
        "GIT_COMMITTER_DATE": ctx.now_text,
    }
    if gitops.config_identity(root) is None:
        env |= {"GIT_COMMITTER_NAME": ctx.actor, "GIT_COMMITTER_EMAIL": ctx.actor_email}
    conflicted = remote_git.merge(root, theirs, message, env)
    if conflicted:
        raise GitError(
            "sync stopped: changed on both sides and not mergeable automatically: "
            + ", ".join(conflicted)
            + "; the merge was undone, nothing was pushed",
            hint="see docs/team.md ('when a merge needs a person'): git pull, fix the files "
            "listed, git commit, then cmtool sync",
        )
    report.merged_cases += case_ids
    for path in both:
        report.contests += _new_contests(root, path, ours, theirs)


def _new_contests(root, path: str, ours: str, theirs: str) -> list[str]:
    """The contest notes this merge added to one case (for the report)."""

    def events_at(rev: str) -> list[Event]:
        text = gitops.git(root, "cat-file", "blob", f"{rev}:{path}", check=False)
        data = load(text, path) if text else None
        return [Event.from_dict(e) for e in (data or {}).get("events") or []]

    before = {event_key(e) for e in events_at(ours) + events_at(theirs)}
    case_id = path.rsplit("/", 1)[-1][: -len(".yaml")]
    return [
        f"{case_id}: {e.note}"
        for e in events_at("HEAD")
        if e.action == CONTEST_ACTION and event_key(e) not in before
    ]
