"""The key behind customers' status codes: ``.git/cmtool/status-key``.

A case's status code is an HMAC of its ID under this key, so a code can be
printed on the acknowledgement and checked later without storing it anywhere.
The key is made on first use, readable by its owner only, and never enters
history: a clone has its own key (the codes a server gives out are that server's).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

from cmtool.store.statefiles import state_dir
from cmtool.store.workspace import Workspace

KEY_FILE = "status-key"
CODE_BYTES = 10  # 80 bits: 16 characters of base32


def _key(ws: Workspace) -> bytes:
    path = state_dir(ws) / KEY_FILE
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(fresh + "\n")
    return bytes.fromhex(fresh)


def status_code(ws: Workspace, case_id: str) -> str:
    """``XXXX-XXXX-XXXX-XXXX``: what a customer types with the case ID."""
    digest = hmac.new(_key(ws), case_id.encode("ascii"), hashlib.sha256).digest()[:CODE_BYTES]
    text = base64.b32encode(digest).decode("ascii")
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def code_matches(ws: Workspace, case_id: str, typed: str) -> bool:
    """Compared in constant time; spaces, dashes and case do not matter."""
    wanted = status_code(ws, case_id).replace("-", "")
    given = "".join(ch for ch in typed.upper() if ch.isalnum())
    return hmac.compare_digest(wanted.encode("ascii"), given.encode("ascii", errors="replace"))
