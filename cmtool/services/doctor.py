"""`cmtool doctor [--repair]` and `cmtool install`: a workspace fit for team use.

Doctor explains what an interrupted command left behind and, with --repair,
puts it right without losing anything: an interrupted action is rolled back
to its last commit (the action never happened), a merge left by a killed sync
is undone, and a case file that differs from its commit is copied to
``.cmtool/doctor/<time>/`` before the committed version is restored.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from typing import Any

from cmtool.services.context import Context, commit_message
from cmtool.store import health
from cmtool.store import remote as remote_git
from cmtool.store.lock import workspace_lock
from cmtool.store.personal import key_store_problem
from cmtool.store.transaction import JOURNAL, recover


@dataclass(frozen=True)
class Finding:
    code: str  # stable, e.g. INTERRUPTED_ACTION; scripts may match on it
    message: str
    repaired: bool = False
    action: str = ""  # what --repair did, or what a person should do

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "repaired": self.repaired, "action": self.action}


@dataclass
class DoctorReport:
    findings: list[Finding] = field(default_factory=list)

    @property
    def unresolved(self) -> list[Finding]:
        return [f for f in self.findings if not f.repaired]


def doctor(ctx: Context, repair: bool = False) -> DoctorReport:
    """Check (and with ``repair`` fix) the workspace; holds the lock throughout."""
    ws, root = ctx.ws, ctx.ws.root
    report = DoctorReport()
    add = report.findings.append
    stamp = ctx.now.strftime("%Y%m%dT%H%M%S")
    with workspace_lock(ws.git_dir / "cmtool.lock"):
        locks = health.git_lock_files(root)
        if locks:
            names = ", ".join(str(p.relative_to(root)) for p in locks)
            if repair:
                health.remove_stale_locks(locks)
            add(
                Finding(
                    "GIT_LOCK_LEFT",
                    f"git lock files left by a killed git process: {names}",
                    repair,
                    "removed" if repair else "doctor --repair removes them",
                )
            )
        if remote_git.interrupted_sync(root):
            if repair:
                remote_git.clear_interrupted_sync(root)
            add(
                Finding(
                    "INTERRUPTED_SYNC",
                    "a sync was killed while merging",
                    repair,
                    "merge undone; run cmtool sync again"
                    if repair
                    else "doctor --repair undoes the half-done merge",
                )
            )
        elif remote_git.merge_in_progress(root):
            add(
                Finding(
                    "MERGE_IN_PROGRESS",
                    "a git merge started by hand is not finished",
                    False,
                    "finish it (fix the files, git commit) or undo it (git merge --abort)",
                )
            )
        journal = ws.git_dir / JOURNAL
        pending = health.journal_paths(journal)  # its files are part of that finding
        if journal.exists():
            paths = recover(ws) if repair else []
            add(
                Finding(
                    "INTERRUPTED_ACTION",
                    "an action was killed before its commit completed",
                    repair,
                    f"rolled back {', '.join(paths) or 'its files'} to the last commit"
                    if repair
                    else "doctor --repair rolls it back (it never happened)",
                )
            )
        leftovers = health.temp_files(ws)
        if leftovers:
            if repair:
                for path in leftovers:
                    path.unlink(missing_ok=True)
            names = ", ".join(str(p.relative_to(root)) for p in leftovers[:5])
            add(
                Finding(
                    "TEMP_FILES",
                    f"{len(leftovers)} half-written temporary files: {names}",
                    repair,
                    "deleted" if repair else "doctor --repair deletes them",
                )
            )
        stale = health.staged_only(root)
        if stale:
            if repair:
                health.reset_index(root, stale)
            add(
                Finding(
                    "INDEX_OUT_OF_SYNC",
                    f"committed, index not updated: git's index still holds the version before "
                    f"the last commit of {', '.join(stale[:5])} (a git lock was in the way)",
                    repair,
                    "index updated" if repair else "doctor --repair updates it",
                )
            )
        for rel in health.uncommitted_cases(root):
            if not repair and (rel in pending or rel in stale):
                continue  # already explained above
            kept = health.move_aside(ws, rel, stamp) if repair else None
            where = f"kept a copy at {kept.relative_to(root)}; " if kept else ""
            add(
                Finding(
                    "UNCOMMITTED_CASE_FILE",
                    f"{rel} is not what the last commit holds (a hand edit, or left by an interrupted tool)",
                    repair,
                    f"{where}restored the committed version"
                    if repair
                    else "doctor --repair keeps a copy under .cmtool/doctor/ and restores "
                    "the committed file; to keep the edit, record it with cmtool edit",
                )
            )
    for rel, kind in health.irregular_files(ws):
        add(
            Finding(
                "NOT_A_REGULAR_FILE",
                f"{rel} is {kind}: cmtool reads only regular files here, so it is refused",
                False,
                "look at where it points (ls -l), keep what you need, then remove it (git rm)",
            )
        )
    missing = health.driver_missing(ws)
    if missing:
        if repair:
            install(ctx)
        add(
            Finding(
                "MERGE_DRIVER_MISSING",
                f"case-file merge driver not registered: {', '.join(missing)}",
                repair,
                "registered" if repair else "run cmtool install",
            )
        )
    key_problem = key_store_problem(ws)
    if key_problem:
        add(
            Finding(
                "KEY_STORE_UNAVAILABLE",
                f"the key store cannot be opened: {key_problem}",
                False,
                "sealed personal data reads [sealed] and new personal data cannot be sealed: "
                "point CMTOOL_KEY_STORE at the team's store, or ask a member to add you "
                "(cmtool privacy members add); docs/privacy.md",
            )
        )
    if shutil.which("cmtool") is None:
        add(
            Finding(
                "CMTOOL_NOT_ON_PATH",
                "`cmtool` is not on PATH, so a plain `git pull` cannot "
                "run the case-file merge driver (cmtool sync still can)",
                False,
                "put cmtool's folder on PATH (also in crontab)",
            )
        )
    return report


def install(ctx: Context) -> list[str]:
    """Register the merge driver and git settings in this clone; returns what changed.

    The git config is per clone; the .gitattributes line is shared, so it is
    committed (one commit) when this clone predates it.
    """
    ws = ctx.ws
    missing = health.driver_missing(ws)
    with ctx.transaction() as tx:
        attributes = health.register_driver(ws)
        if attributes is not None:
            tx.put_file(".gitattributes", attributes)
            tx.commit(
                commit_message("install: merge case files with cmtool", "install", ctx.actor, []),
                ctx.identity,
                ctx.now_text,
            )
    return missing
