"""One action, one commit, all or nothing, one writer at a time.

Inside ``transaction(ws)`` the workspace lock is held. Before any file is
written, a journal (``.git/cmtool-journal.json``) names the paths about to
change. The commit is the moment of truth: ``update-ref`` either moved HEAD or
not. If a process dies anywhere in between, the next transaction (or ``cmtool
doctor``) finds the journal and puts each path back to what HEAD holds, so the
workspace is always either before or after the action.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cmtool.errors import DirtyWorkspace, GitError, UsageError
from cmtool.model.case import Case
from cmtool.model.schema import new_event_error
from cmtool.model.timefmt import too_far_ahead
from cmtool.store import git as gitops
from cmtool.store.casefiles import load_case
from cmtool.store.health import clear_leftovers
from cmtool.store.lock import workspace_lock
from cmtool.store.personal import Sealer, sealer_for
from cmtool.store.workspace import Workspace
from cmtool.store.yamlio import load, render

JOURNAL = "cmtool-journal.json"
log = logging.getLogger("cmtool")
ALLOW_FUTURE_ENV = "CMTOOL_ALLOW_FUTURE"


@dataclass
class Transaction:
    ws: Workspace
    pending: dict[str, str | bytes] = field(default_factory=dict)  # relpath -> new text or bytes
    filtered: set[str] = field(default_factory=set)  # paths git stores through their filters (LFS)
    recovered: list[str] = field(default_factory=list)
    # HEAD's blob ids, one `ls-tree` per month folder: a sweep loading thousands of
    # cases asks git a few dozen times, not once per case.
    committed: dict[str, dict[str, str]] = field(default_factory=dict)
    loaded: dict[str, int] = field(default_factory=dict)  # case id -> events it had
    sealer: Sealer | None = None

    # Asked before each case is written, with the number of events it had before
    # (services set it: rules.yaml's people and roles; store knows nothing of them).
    check: Callable[[Case, int], None] | None = None
    loaded: dict[str, int] = field(default_factory=dict)  # case id -> events when loaded

    def load(self, case_id: str) -> tuple[Case, str]:
        """A case to change; refuses one with uncommitted hand edits."""
        case, text = load_case(self.ws, case_id)
        rel = self.ws.case_relpath(case_id)
        folder, name = rel.rsplit("/", 1)
        if folder not in self.committed:
            self.committed[folder] = gitops.head_folder_blobs(self.ws.root, folder)
        if self.committed[folder].get(name) != gitops.blob_id(text.encode("utf-8")):
            raise DirtyWorkspace(
                f"{rel} has changes that are not committed",
                hint="commit or discard them (git diff / git checkout), or run cmtool doctor",
            )
        self.loaded[case_id] = len(case.events)
        return case, text

    def put(self, case: Case, previous_text: str | None, at: str = "") -> None:
        """Stage a case's new text; personal values of its new events are sealed
        here when the workspace has a key store (``at``: when a new key is made)."""
        # The last line of defence for every way in (CLI, import, rules): nothing is
        # written that validate would refuse, so no action can leave a case stuck.
        for event in case.events[self.loaded.get(case.id, 0) :]:
            problem = new_event_error(event)
            if problem:
                raise UsageError(f"{case.id}: cannot record {event.action}: {problem}")
        rel = self.ws.case_relpath(case.id)
        if self.check is not None:
            before = self.loaded.get(case.id)
            if before is None:
                before = _event_count(previous_text, rel)
            self.check(case, before)
        data = case.to_dict()
        if self.sealer is None:  # once per transaction: a bulk import puts 100,000 cases
            self.sealer = sealer_for(self.ws)
        sealer = self.sealer
        if sealer.active:
            previous = load(previous_text, rel) if previous_text is not None else None
            data = sealer.seal_case(
                data, previous if isinstance(previous, dict) else None, at or case.updated_at
            )
        self.pending[rel] = render(data, previous_text)

    def put_file(self, relpath: str, text: str) -> None:
        self.pending[relpath] = text

    def put_bytes(self, relpath: str, data: bytes, through_filters: bool = False) -> None:
        """A binary file (an attachment); ``through_filters``: git stores what its
        attribute filters make of it (Git LFS keeps a pointer in history)."""
        self.pending[relpath] = data
        if through_filters:
            self.filtered.add(relpath)

    def commit(self, message: str, author: gitops.Identity, date: str) -> str | None:
        if not self.pending:
            return None
        refuse_far_future(date)
        refuse_detached_head(self.ws)
        root = self.ws.root
        journal = self.ws.git_dir / JOURNAL
        _write_atomic(journal, json.dumps({"paths": sorted(self.pending)}))
        try:
            for rel, text in self.pending.items():
                _write_atomic(root / rel, text)
            plain = {p: text for p, text in self.pending.items() if p not in self.filtered}
            blobs = {
                **gitops.write_blobs(root, plain),
                **gitops.hash_files(root, self.filtered, filters=True),
            }
            committer = gitops.config_identity(root) or author
            commit = gitops.commit_changes(root, blobs, message, author, committer, date)
        except BaseException:
            recover(self.ws)
            raise
        journal.unlink()
        self.pending.clear()
        return commit


def refuse_far_future(date: str) -> None:
    """An action dated far ahead of the real clock would block every real-time action
    on its case until then; it takes ``CMTOOL_ALLOW_FUTURE=1`` to record one."""
    if too_far_ahead(date) and os.environ.get(ALLOW_FUTURE_ENV) != "1":
        raise UsageError(
            f"the action's time {date} is more than a day ahead of this computer's clock",
            hint=f"check --now / $CMTOOL_NOW and the clock; to record it anyway set {ALLOW_FUTURE_ENV}=1",
        )


def refuse_detached_head(ws: Workspace) -> None:
    """A commit on a detached HEAD belongs to no branch: the next checkout orphans it
    and sync never shares it."""
    try:
        head = (ws.git_dir / "HEAD").read_text(encoding="utf-8")
    except OSError:
        return  # not a plain repository layout: git itself will complain
    if not head.startswith("ref: "):
        raise GitError(
            f"HEAD is detached (at {head.strip()[:12]}): an action here would belong to no branch",
            hint="switch to the workspace's branch first, e.g. git switch main",
        )


@contextmanager
def transaction(ws: Workspace, timeout: float | None = None) -> Iterator[Transaction]:
    with workspace_lock(ws.git_dir / "cmtool.lock", timeout):
        for what in clear_leftovers(ws):
            log.warning("cleared %s", what)
        tx = Transaction(ws, recovered=recover(ws))
        yield tx


def recover(ws: Workspace) -> list[str]:
    """Undo what an interrupted action left; returns the paths it put back."""
    journal = ws.git_dir / JOURNAL
    if not journal.exists():
        return []
    try:
        paths = json.loads(journal.read_text(encoding="utf-8"))["paths"]
    except (ValueError, KeyError):
        paths = []
    root = ws.root
    for rel in paths:
        target = root / rel
        for leftover in target.parent.glob(f".{target.name}.tmp-*"):
            leftover.unlink()
        committed = gitops.blob_at(root, "HEAD", rel)
        if committed is None:
            target.unlink(missing_ok=True)
            gitops.sync_index(root, {rel: None})
            continue
        on_disk = gitops.blob_id(target.read_bytes()) if target.exists() else None
        if on_disk != committed:
            content = gitops.git(root, "cat-file", "blob", committed)
            _write_atomic(target, content)
        gitops.sync_index(root, {rel: committed})
    journal.unlink()
    return paths


def _event_count(text: str | None, rel: str) -> int:
    data = load(text, rel) if text else None
    events = data.get("events") if isinstance(data, dict) else None
    return len(events) if isinstance(events, list) else 0


def _write_atomic(path: Path, text: str | bytes) -> None:
    """Write via a temporary file and rename: readers see old or new, never half.

    No fsync: a killed process cannot tear a rename, and the journal rolls back
    whatever was written before ``update-ref``. Durability across a power cut is
    git's own setting (``core.fsync``), which covers the objects a commit points
    to; syncing the work-tree files alone would not make a commit durable.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    if isinstance(text, bytes):
        temp.write_bytes(text)
    else:
        with open(temp, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    os.replace(temp, path)
