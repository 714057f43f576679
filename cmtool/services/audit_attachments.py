"""`audit verify` on attachments: each stored file holds the content its name (its
sha256) promises, and each file an ``attach`` event cites is there. A sealed file
is named by the sha256 of its ciphertext (``stored_sha256`` in the event), so
all of this is checked without keys."""

from __future__ import annotations

from cmtool.audit.findings import Finding
from cmtool.errors import DataError
from cmtool.store import gitread
from cmtool.store.attachments import FOLDER, content_sha256
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


def _cited(ws: Workspace, head: str) -> list[tuple[str, str, list[str]]]:
    """(case file, case ID, sha256s) of every case at ``head`` with an attach event;
    ``git grep`` narrows the files to read to those that mention one."""
    listing = gitread.run_git(ws.root, "grep", "-l", "-z", "action: attach", head, "--", "cases", check=False)
    paths = [p.split(":", 1)[1] for p in listing.split("\0") if ":" in p]
    result = []
    for path, blob in zip(paths, gitread.read_blobs(ws.root, (f"{head}:{p}" for p in paths)), strict=True):
        try:
            data = load((blob or b"").decode("utf-8"), path)
        except (DataError, UnicodeDecodeError):
            continue  # a broken case file is reported by the checks of its commit
        shas = [
            str(item.get("stored_sha256") or item.get("sha256"))  # a sealed file: its ciphertext's
            for event in (data.get("events") or [] if isinstance(data, dict) else [])
            if isinstance(event, dict) and event.get("action") == "attach"
            for item in event.get("files") or []
            if isinstance(item, dict)
        ]
        result.append((path, path.rsplit("/", 1)[-1].removesuffix(".yaml"), shas))
    return result
