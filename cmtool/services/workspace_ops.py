"""Creating workspaces: `init` and the bundled demo."""

from __future__ import annotations

from pathlib import Path

from cmtool.services.context import commit_message, resolve_now
from cmtool.store import git as gitops
from cmtool.store.transaction import transaction
from cmtool.store.workspace import Workspace, init_workspace


def create_workspace(
    target: Path, actor: str | None, now: str | None, with_sample: bool = False
) -> Workspace:
    """A new workspace with its first commit (rules, templates, and any sample cases)."""
    from cmtool.model.timefmt import format_time

    ws = init_workspace(target, with_sample)
    identity = gitops.config_identity(ws.root)
    who = actor or (identity.name if identity else "cmtool")
    author = identity if identity and identity.name == who else gitops.Identity(who, f"{who}@cmtool.invalid")
    files = sorted(
        str(p.relative_to(ws.root))
        for p in ws.root.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(ws.root).parts
    )
    case_ids = [Path(f).stem for f in files if f.startswith("cases/") and f.endswith(".yaml")]
    with transaction(ws) as tx:
        for rel in files:
            tx.put_file(rel, (ws.root / rel).read_text(encoding="utf-8"))
        summary = "init workspace" + (f" with {len(case_ids)} sample cases" if case_ids else "")
        tx.commit(commit_message(summary, "init", who, case_ids), author, format_time(resolve_now(now)))
    return ws
