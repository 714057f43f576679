"""`audit verify` on attachments: each stored file holds the content its name (its
sha256) promises, and each file an ``attach`` event cites is there. A sealed file
is named by the sha256 of its ciphertext (``stored_sha256`` in the event), so
all of this is checked without keys."""

from __future__ import annotations

import re

from cmtool.audit.findings import Finding
from cmtool.errors import DataError, GitError
from cmtool.store import gitread
from cmtool.store.attachments import FOLDER, content_sha256
from cmtool.store.statefiles import read_json, write_json
from cmtool.store.workspace import Workspace
from cmtool.store.yamlio import load


def attachment_findings(ws: Workspace, head: str) -> list[Finding]:
    stored = dict(gitread.tree_blobs(ws.root, head, FOLDER))
    found: list[Finding] = []
    for (path, _blob), content in zip(
        stored.items(), gitread.read_blobs(ws.root, stored.values()), strict=True
    ):
        name = path.rsplit("/", 1)[-1]
        actual = content_sha256(content or b"")
        if actual != name or path != f"{FOLDER}/{name[:2]}/{name}":
            found.append(
                Finding("ATTACHMENT_HASH", f"content hashes to {actual}, not to its name", head, path)
            )
    for case_path, case_id, cited in _cited(ws, head):
        for sha in cited:
            if f"{FOLDER}/{sha[:2]}/{sha}" not in stored:
                message = f"attachment {sha} cited by an attach event is not in the repository"
                found.append(Finding("ATTACHMENT_MISSING", message, head, case_path, None, case_id))
    return found


# What the previous check found in the case files of one tree: the next check reads
# only the files changed since (an action changes one). Kept with the clone's other
# state in .git/cmtool/, as trusted as the verified marks beside it.
CITED_CACHE = "attachments-cited.json"
_OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def _cited(ws: Workspace, head: str) -> list[tuple[str, str, list[str]]]:
    """(case file, case ID, sha256s) of every case at ``head`` with an attach event."""
    tree = _tree(ws, f"{head}:cases")
    previous, cited = _previous_check(ws)
    changed = _changed_since(ws, previous, tree) if tree else None
    if changed is None:  # no usable record: the files that mention an attach event
        listing = gitread.run_git(
            ws.root, "grep", "-l", "-z", "action: attach", head, "--", "cases", check=False
        )
        cited, changed = {}, [p.split(":", 1)[1] for p in listing.split("\0") if ":" in p]
    again = set(changed)
    cited = {path: shas for path, shas in cited.items() if path not in again}
    blobs = gitread.read_blobs(ws.root, (f"{head}:{p}" for p in changed))
    for path, blob in zip(changed, blobs, strict=True):
        shas = _shas(path, blob)
        if shas is not None:
            cited[path] = shas
    if tree:
        write_json(ws, CITED_CACHE, {"tree": tree, "cited": cited})
    return [
        (path, path.rsplit("/", 1)[-1].removesuffix(".yaml"), shas) for path, shas in sorted(cited.items())
    ]


def _previous_check(ws: Workspace) -> tuple[str | None, dict[str, list[str]]]:
    """(tree, cited) of the last check; anything damaged counts as no record."""
    try:
        cache = read_json(ws, CITED_CACHE, {})
    except DataError:
        return None, {}
    tree = cache.get("tree") if isinstance(cache, dict) else None
    cited = cache.get("cited") if isinstance(cache, dict) else None
    valid = isinstance(tree, str) and _OBJECT_ID.fullmatch(tree) is not None and isinstance(cited, dict)
    if not valid or not all(
        isinstance(shas, list) and all(isinstance(sha, str) for sha in shas) for shas in cited.values()
    ):
        return None, {}
    return tree, cited


def _changed_since(ws: Workspace, old: str | None, new: str) -> list[str] | None:
    """The case files that differ between two trees of cases/ (None: cannot tell)."""
    if old is None:
        return None
    try:
        listing = gitread.run_git(ws.root, "diff-tree", "-r", "--name-only", "-z", old, new)
    except GitError:  # the old tree is gone (pruned) or is no tree
        return None
    return [f"cases/{p}" for p in listing.split("\0") if p]


def _tree(ws: Workspace, rev: str) -> str | None:
    out = gitread.run_git(ws.root, "rev-parse", "-q", "--verify", rev, check=False).strip()
    return out or None


def _shas(path: str, blob: bytes | None) -> list[str] | None:
    """The files a case's attach events cite (None: the file is gone, or cites none)."""
    if not blob or b"action: attach" not in blob:
        return None
    try:
        data = load(blob.decode("utf-8"), path)
    except (DataError, UnicodeDecodeError):
        return None  # a broken case file is reported by the checks of its commit
    return [
        str(item.get("stored_sha256") or item.get("sha256"))  # a sealed file: its ciphertext's
        for event in (data.get("events") or [] if isinstance(data, dict) else [])
        if isinstance(event, dict) and event.get("action") == "attach"
        for item in event.get("files") or []
        if isinstance(item, dict)
    ]
