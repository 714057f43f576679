"""Reading a workspace file that may have been planted: regular files only, bounded size.

A case file or rules.yaml that is a symbolic link could serve a file from
outside the workspace (``/etc/passwd``), never end (``/dev/zero``) or block
(``/dev/stdin``, a FIFO). The file is opened without following a final link
and without blocking, checked with ``fstat`` (what was opened, not what a path
pointed at a moment before), and read up to a size limit; the folders between
the workspace root and the file must be real folders too.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from cmtool.errors import DataError

# A case with 20,000 events is about 4 MB; rules.yaml is a few KB.
MAX_BYTES = 16 * 1024 * 1024

_HINT = "case files and rules.yaml must be regular files in the workspace; see: cmtool doctor"
_FLAGS = (
    os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
)


class NotRegularFile(DataError):
    """A link, folder, device or pipe where a file should be."""


class TooLarge(DataError):
    """A file over the size limit."""


def describe_mode(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def linked_folder(path: Path, root: Path) -> Path | None:
    """The first folder between ``root`` and ``path`` that is a symbolic link, if any."""
    top, here = str(root), str(path.parent)
    if not here.startswith(top):
        return None
    folder = top
    for part in here[len(top) :].split(os.sep):
        if part:
            folder = os.path.join(folder, part)
            try:
                if stat.S_ISLNK(os.lstat(folder).st_mode):
                    return Path(folder)
            except FileNotFoundError:
                return None
    return None


def _shown(path: Path, root: Path | None) -> Path:
    return path.relative_to(root) if root is not None and path.is_relative_to(root) else path


def read_regular(path: Path, root: Path | None = None, limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; DataError naming the
    file otherwise. FileNotFoundError when there is nothing there."""
    if root is not None:
        folder = linked_folder(path, root)
        if folder is not None:
            raise NotRegularFile(f"{folder.relative_to(root)}: is a symbolic link, not a folder", hint=_HINT)
    try:
        fd = os.open(path, _FLAGS)
    except FileNotFoundError:
        raise
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotRegularFile(
                f"{_shown(path, root)}: is a symbolic link, not a regular file", hint=_HINT
            ) from None
        if exc.errno == errno.ENOTDIR:
            raise FileNotFoundError(str(path)) from None
        raise DataError(f"{_shown(path, root)}: cannot read: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = describe_mode(info.st_mode)
            raise NotRegularFile(f"{_shown(path, root)}: is {kind}, not a regular file", hint=_HINT)
        if info.st_size > limit:
            raise TooLarge(
                f"{_shown(path, root)}: is {info.st_size:,} bytes, more than the limit of {limit:,}"
            )
        data = os.read(fd, info.st_size + 1)  # one read for a regular file, as a rule
        while len(data) <= limit:
            more = os.read(fd, limit + 1 - len(data))
            if not more:
                break
            data += more
        if len(data) > limit:  # it grew while being read
            raise TooLarge(f"{_shown(path, root)}: is more than the limit of {limit:,} bytes")
        return data
    finally:
        os.close(fd)


def read_text(path: Path, root: Path | None = None, limit: int = MAX_BYTES) -> str:
    """A regular file's UTF-8 text, exactly (CRLF stays CRLF: blob ids depend on it)."""
    raw = read_regular(path, root, limit)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{_shown(path, root)}: not UTF-8 text (byte {exc.start})") from None
