"""Attachments: evidence files stored by content under ``attachments/``.

A file lives at ``attachments/<first two hex digits>/<sha256>``: the same photo
attached to two cases is stored once, a path can only ever hold the content its
name promises (so `audit verify` checks each by hashing it), and a name a
customer chose never becomes a path. The case's ``attach`` event records the
original name, size, media type and hash.

With Git LFS installed and ``attachments/**`` tracked by it (``git lfs track``),
git keeps a small pointer in history and the content in LFS storage; the pointer
names the same sha256, so verification needs no download.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cmtool.errors import UsageError
from cmtool.store.gitenv import git_environ
from cmtool.store.workspace import Workspace

FOLDER = "attachments"
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
_LFS_OID = re.compile(rb"^oid sha256:([0-9a-f]{64})$", re.MULTILINE)
_LFS_HEAD = b"version https://git-lfs.github.com/spec/v1\n"
SEALING_OVERHEAD = 4096  # a sealed file's header, nonce and tag


@dataclass(frozen=True)
class Evidence:
    name: str  # the file's own name, as the person attaching it had it
    size: int
    media_type: str
    sha256: str
    data: bytes

    def record(self) -> dict[str, object]:
        """What the event keeps (never the content)."""
        return {"name": self.name, "size": self.size, "type": self.media_type, "sha256": self.sha256}


def relpath(sha256: str) -> str:
    if not _SHA_RE.match(sha256):
        raise ValueError(f"{sha256!r} is not a sha256")
    return f"{FOLDER}/{sha256[:2]}/{sha256}"


def read_evidence(path: Path, max_bytes: int) -> Evidence:
    """A regular file no larger than ``max_bytes``, read once and hashed."""
    try:
        info = path.lstat()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{path}: not a regular file (links, folders and devices are not attached)")
    if info.st_size > max_bytes:
        raise UsageError(
            f"{path}: {info.st_size:,} bytes is over the limit of {max_bytes:,}",
            hint="raise attachments.max_size_mb in rules.yaml, or attach a smaller copy",
        )
    with open(path, "rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UsageError(f"{path}: grew past the limit of {max_bytes:,} bytes while being read")
    name = "".join(ch if ch.isprintable() else "?" for ch in path.name)
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return Evidence(name, len(data), media_type, hashlib.sha256(data).hexdigest(), data)


def content_sha256(blob: bytes) -> str:
    """The sha256 a stored attachment's content has: of the bytes, or the one an
    LFS pointer names (so an LFS clone checks without fetching the content)."""
    if blob.startswith(_LFS_HEAD):
        match = _LFS_OID.search(blob)
        if match:
            return match.group(1).decode("ascii")
    return hashlib.sha256(blob).hexdigest()


def uses_lfs(ws: Workspace) -> bool:
    """Whether attachments go through Git LFS: git-lfs is installed and the
    workspace's attributes send ``attachments/`` to its filter."""
    if shutil.which("git-lfs") is None:
        return False
    probe = f"{FOLDER}/00/{'0' * 64}"
    done = subprocess.run(
        ["git", "check-attr", "filter", "--", probe],
        cwd=ws.root,
        capture_output=True,
        text=True,
        env=git_environ(),
    )
    return done.returncode == 0 and done.stdout.strip().endswith(": filter: lfs")


def read_stored(ws: Workspace, sha256: str, limit: int) -> bytes:
    """What is stored under ``sha256`` in the work tree: the file, or its sealed
    form; ValueError for an LFS pointer whose content this clone has not fetched."""
    from cmtool.store.safefile import read_regular

    data = read_regular(ws.root / relpath(sha256), ws.root, limit + SEALING_OVERHEAD)
    if data.startswith(_LFS_HEAD):
        raise ValueError("only its Git LFS pointer is here: git lfs pull")
    return data


def copy_out(ws: Workspace, sha256: str, target: Path) -> None:
    """The content of a stored attachment, copied to ``target`` (for export bundles)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ws.root / relpath(sha256), target)
