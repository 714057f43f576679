"""Small JSON files under ``.git/cmtool`` that remember derived values between commands.

What is kept here can always be built again from the workspace (rules.yaml) and
the installed packages, so a cache file that is missing, truncated, corrupted or
from another version is ignored and rebuilt, never trusted: each file carries the
SHA-256 of its body and the key it was built for, and is read only when both match.

Why JSON and not pickle: ``.git`` is local (clone and fetch never copy it), yet a
workspace may come as a copied folder. Unpickling such a file could run any code;
reading JSON only yields plain values, and callers check those values again
before using them.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

FOLDER = "cmtool"
MAX_BYTES = 8 * 1024 * 1024  # far above any real rules.yaml or holiday table


def cache_dir(root: Path) -> Path | None:
    """``.git/cmtool`` of the workspace at ``root``; None where ``.git`` is not a folder
    (a linked worktree or submodule: nothing is kept, everything is built each time)."""
    git_dir = root / ".git"
    return git_dir / FOLDER if git_dir.is_dir() else None


def read_cache(path: Path, key: str) -> Any | None:
    """The value stored at ``path`` for ``key``; None when absent or not exactly that."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError:
        return None
    check, _, body = raw.partition(b"\n")
    if len(raw) > MAX_BYTES or check != hashlib.sha256(body).hexdigest().encode():
        return None
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict) or document.get("key") != key:
        return None
    return document.get("value")


def write_cache(path: Path, key: str, value: Any) -> None:
    """Store ``value`` for ``key``, atomically (a reader sees the old file or the new
    one). A read-only or full disk only means building again next time."""
    body = json.dumps({"key": key, "value": value}, ensure_ascii=True, separators=(",", ":")).encode()
    if len(body) > MAX_BYTES:
        return
    temp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp.write_bytes(hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
        os.replace(temp, path)
    except OSError:
        temp.unlink(missing_ok=True)


def installed_version(distribution: str, module: str) -> str:
    """The installed version of a package, read from its ``.dist-info`` folder name
    beside the module (``importlib.metadata`` scans every path entry: 20-250 ms)."""
    from importlib.util import find_spec

    spec = find_spec(module)
    if spec is not None and spec.origin:
        site = Path(spec.origin).parent.parent
        prefix = distribution.lower().replace("-", "_") + "-"
        try:
            found = [
                entry.name[len(prefix) : -len(".dist-info")]
                for entry in os.scandir(site)
                if entry.name.lower().startswith(prefix) and entry.name.endswith(".dist-info")
            ]
        except OSError:
            found = []
        if len(found) == 1:
            return found[0]
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "none"
