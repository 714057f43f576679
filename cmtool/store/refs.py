"""Moving HEAD's branch in-process, with git's own ref locking.

``git update-ref -m MSG HEAD NEW OLD`` does, for a branch stored as a file:
create ``refs/heads/<name>.lock`` exclusively (the lock every git command
takes), check that the branch still holds OLD, write NEW into the lock file,
append a line to the branch's reflog and to HEAD's, and rename the lock over
the branch. This module does exactly that, so an action needs no git process
to commit. HEAD only ever names a commit whose objects were all written
before (see :mod:`cmtool.store.objects`).

Where git would do more (a ``reference-transaction`` hook, a hooks path, an
identity or time set in the environment for the reflog) :class:`Unsupported`
sends the caller to ``git update-ref``.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from pathlib import Path

from cmtool.errors import GitError
from cmtool.store.nativegit import Unsupported, fsync_wanted, ident_or_unsupported, read_ref

ZERO = "0" * 40
_REF_FSYNC = {"reference", "committed", "all"}


def fsync_refs(config: Mapping[str, str]) -> bool:
    return fsync_wanted(config, _REF_FSYNC)


def _reflog_ident(config: Mapping[str, str]) -> str:
    if any(os.environ.get(name) for name in ("GIT_COMMITTER_DATE", "GIT_REFLOG_ACTION")):
        raise Unsupported("the environment sets the reflog's time or action")
    name = os.environ.get("GIT_COMMITTER_NAME") or config.get("user.name") or ""
    email = os.environ.get("GIT_COMMITTER_EMAIL") or config.get("user.email") or os.environ.get("EMAIL") or ""
    now = time.time()
    offset = time.localtime(now).tm_gmtoff // 60
    sign = "-" if offset < 0 else "+"
    return (
        f"{ident_or_unsupported(name, email)} {int(now)} {sign}{abs(offset) // 60:02d}{abs(offset) % 60:02d}"
    )


def _hooked(git_dir: Path, config: Mapping[str, str]) -> bool:
    return "core.hookspath" in config or (git_dir / "hooks" / "reference-transaction").exists()


def update_head(root: Path, config: Mapping[str, str], new: str, old: str | None, message: str) -> None:
    """Move the branch HEAD names from ``old`` (None: it must not exist) to ``new``."""
    git_dir = root / ".git"
    if _hooked(git_dir, config):
        raise Unsupported("a hook watches ref updates")
    symbolic = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
    if not symbolic.startswith("ref: refs/heads/"):
        raise Unsupported("HEAD is not a branch")
    ref = symbolic[5:]
    # git keeps a reflog message on one line, its runs of white space squeezed.
    squeezed = re.sub(r"[ \t\n\r]+", " ", message).strip()
    line = f"{old or ZERO} {new} {_reflog_ident(config)}\t{squeezed}\n"
    target = git_dir / ref
    lock = target.with_name(target.name + ".lock")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        raise GitError(
            f"git update-ref failed: cannot lock ref '{ref}': '{lock}' exists",
            hint="if no git command is running, run: cmtool doctor --repair",
        ) from None
    try:
        current = read_ref(git_dir, ref)
        if current != old:
            raise GitError(
                f"git update-ref failed: cannot lock ref '{ref}': is at {current} but expected {old or ZERO}"
            )
        os.write(fd, f"{new}\n".encode("ascii"))
        if fsync_refs(config):
            os.fsync(fd)
        os.close(fd)
        fd = -1
        logging = config.get("core.logallrefupdates", "true").lower() not in ("false", "no", "off", "0")
        for log in (git_dir / "logs" / ref, git_dir / "logs" / "HEAD"):
            if logging or log.exists():  # git appends to a reflog that exists either way
                log.parent.mkdir(parents=True, exist_ok=True)
                with open(log, "a", encoding="utf-8") as handle:
                    handle.write(line)
        os.replace(lock, target)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        lock.unlink(missing_ok=True)
        raise
